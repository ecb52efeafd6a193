# Arabic. Same message ids and variables as en/sunset.ftl.
# Days take all six CLDR forms: يوم واحد، يومان، ٣ أيام، ١١ يومًا، ١٠٠ يوم.

notice-countdown =
    ستتوقف خدمة { $service } على واتساب. { PLURAL($days) ->
        [one] بقي يوم واحد فقط، وآخر يوم هو { $deadline }.
        [two] بقي يومان فقط، وآخر يوم هو { $deadline }.
        [few] بقيت { $days } أيام، وآخر يوم هو { $deadline }.
        [many] بقي { $days } يومًا، وآخر يوم هو { $deadline }.
       *[other] بقي { $days } يوم، وآخر يوم هو { $deadline }.
    }

    تابع استخدام { $service } عبر التطبيق الرسمي:
    { $app_link }

    { $linking ->
        [on] اربط حسابك قبل ذلك للاحتفاظ بسجل محادثاتك:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    اليوم هو آخر يوم لخدمة { $service } على واتساب. تتوقف الخدمة بعد { PLURAL($hours) ->
        [one] ساعة واحدة.
        [two] ساعتين.
        [few] { $hours } ساعات.
        [many] { $hours } ساعة.
       *[other] { $hours } ساعة.
    }

    تابع استخدام { $service } عبر التطبيق الرسمي:
    { $app_link }

    { $linking ->
        [on] اربط حسابك الآن للاحتفاظ بسجل محادثاتك:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    لم تعد خدمة { $service } متاحة على واتساب.

    تابع عبر التطبيق الرسمي:
    { $app_link }

    { $linking ->
        [on] اربط حسابك لاستعادة سجل محادثاتك:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    لن تصلك رسائل أخرى من { $service } هنا. أرسل «ابدأ» لتصلك رسائلنا من جديد.

start-confirmation =
    أهلًا بعودتك: ستبقيك { $service } على اطلاع هنا.

keywords-stop = إيقاف, توقف, الغاء, إلغاء, stop
keywords-start = ابدأ, بدء, start
language-names = العربية, عربي, Arabic

link-expired-title = انتهت صلاحية هذا الرابط
link-expired-text = رابط ربط الحساب هذا لم يعد صالحًا: انتهت صلاحيته أو لم يُنسخ كاملًا. أرسل أي رسالة إلى { $service } على واتساب لتحصل على رابط جديد.
link-unknown-title = الرابط غير موجود
link-unknown-text = هذا الرابط غير مكتمل أو ليس من روابطنا. تطبيق { $service } هنا:
