# Urdu. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    واٹس ایپ پر { $service } کی سروس ختم ہو رہی ہے۔ { PLURAL($days) ->
        [one] صرف ایک دن باقی ہے، آخری دن { $deadline } ہے۔
       *[other] { $days } دن باقی ہیں، آخری دن { $deadline } ہے۔
    }

    آفیشل ایپ میں { $service } کا استعمال جاری رکھیں:
    { $app_link }

    { $linking ->
        [on] اپنی چیٹ ہسٹری محفوظ رکھنے کے لیے اس سے پہلے اپنا اکاؤنٹ لنک کر لیں:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    آج واٹس ایپ پر { $service } کا آخری دن ہے۔ یہ سروس { PLURAL($hours) ->
        [one] ایک گھنٹے میں بند ہو جائے گی۔
       *[other] { $hours } گھنٹے میں بند ہو جائے گی۔
    }

    آفیشل ایپ میں { $service } کا استعمال جاری رکھیں:
    { $app_link }

    { $linking ->
        [on] اپنی چیٹ ہسٹری محفوظ رکھنے کے لیے ابھی اپنا اکاؤنٹ لنک کر لیں:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    واٹس ایپ پر { $service } اب دستیاب نہیں ہے۔

    آفیشل ایپ میں جاری رکھیں:
    { $app_link }

    { $linking ->
        [on] اپنی چیٹ ہسٹری واپس پانے کے لیے اپنا اکاؤنٹ لنک کریں:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    اب آپ کو یہاں { $service } کی طرف سے کوئی پیغام نہیں ملے گا۔ ہمارے پیغامات دوبارہ پانے کے لیے «شروع» بھیجیں۔

start-confirmation =
    دوبارہ خوش آمدید! اب آپ کو یہاں { $service } کی تازہ معلومات ملتی رہیں گی۔

keywords-stop = stop, بند, بند کریں, بند کرو, روکیں, روکو, پیغامات بند کریں, band, band karo, band karein
keywords-start = start, شروع, شروع کریں, شروع کرو, دوبارہ شروع کریں, shuru, shuru karo, shuru karein
language-names = اردو, Urdu

link-expired-title = اس لنک کی میعاد ختم ہو گئی ہے
link-expired-text = اکاؤنٹ جوڑنے کا یہ لنک اب درست نہیں: اس کی میعاد ختم ہو گئی ہے یا یہ پورا کاپی نہیں ہوا۔ نیا لنک حاصل کرنے کے لیے واٹس ایپ پر { $service } کو کوئی بھی پیغام بھیجیں۔
link-unknown-title = لنک نہیں ملا
link-unknown-text = یہ لنک نامکمل ہے یا ہمارا نہیں ہے۔ { $service } ایپ یہاں ہے:
