# Persian. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    سرویس { $service } دیگر در واتساپ در دسترس نخواهد بود. { PLURAL($days) ->
        [one] فقط یک روز دیگر مانده و آخرین روز { $deadline } است.
       *[other] { $days } روز دیگر مانده و آخرین روز { $deadline } است.
    }

    استفاده از { $service } را در اپلیکیشن رسمی ادامه دهید:
    { $app_link }

    { $linking ->
        [on] تا قبل از آن حساب خود را متصل کنید تا تاریخچه گفتگوهایتان حفظ شود:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    امروز آخرین روز { $service } در واتساپ است. این سرویس { PLURAL($hours) ->
        [one] { $hours } ساعت دیگر متوقف خواهد شد.
       *[other] { $hours } ساعت دیگر متوقف خواهد شد.
    }

    استفاده از { $service } را در اپلیکیشن رسمی ادامه دهید:
    { $app_link }

    { $linking ->
        [on] همین حالا حساب خود را متصل کنید تا تاریخچه گفتگوهایتان حفظ شود:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    سرویس { $service } دیگر در واتساپ در دسترس نیست.

    در اپلیکیشن رسمی ادامه دهید:
    { $app_link }

    { $linking ->
        [on] حساب خود را متصل کنید تا تاریخچه گفتگوهایتان را بازیابی کنید:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    از این پس پیامی از { $service } در اینجا دریافت نخواهید کرد. اگر خواستید دوباره از ما خبر داشته باشید، «شروع» را بفرستید.

start-confirmation =
    خوشحالیم که برگشتید! { $service } شما را اینجا در جریان خواهد گذاشت.

keywords-stop = stop, توقف, لغو, لغو اشتراک, لغو عضویت, قطع پیام
keywords-start = start, شروع, شروع مجدد, دوباره شروع, فعال کردن
language-names = فارسی, فارسي, پارسی, Persian, Farsi

link-expired-title = این پیوند منقضی شده است
link-expired-text = این پیوند اتصال حساب دیگر معتبر نیست: یا منقضی شده یا کامل کپی نشده است. برای دریافت پیوند جدید، هر پیامی به { $service } در واتساپ بفرستید.
link-unknown-title = پیوند پیدا نشد
link-unknown-text = این پیوند کامل نیست یا از ما نیست. برنامهٔ { $service } اینجاست:
