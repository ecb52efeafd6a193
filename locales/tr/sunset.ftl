# Turkish. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } WhatsApp'tan ayrılıyor. { PLURAL($days) ->
        [one] Yalnızca 1 gün kaldı, son gün { $deadline }.
       *[other] { $days } gün kaldı, son gün { $deadline }.
    }

    { $service } ile devam etmek için resmi uygulamayı kullanın:
    { $app_link }

    { $linking ->
        [on] Sohbet geçmişinizi korumak için o tarihten önce hesabınızı bağlayın:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Bugün { $service } hizmetinin WhatsApp'taki son günü. Hizmet { PLURAL($hours) ->
        [one] 1 saat sonra sona eriyor.
       *[other] { $hours } saat sonra sona eriyor.
    }

    { $service } ile devam etmek için resmi uygulamayı kullanın:
    { $app_link }

    { $linking ->
        [on] Sohbet geçmişinizi korumak için hesabınızı hemen bağlayın:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } artık WhatsApp'ta kullanılamıyor.

    Resmi uygulamadan devam edin:
    { $app_link }

    { $linking ->
        [on] Sohbet geçmişinizi geri almak için hesabınızı bağlayın:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Artık burada { $service } hizmetinden mesaj almayacaksınız. Bizden yeniden haber almak isterseniz BAŞLA yazın.

start-confirmation =
    Tekrar hoş geldiniz! { $service } sizi burada bilgilendirmeye devam edecek.

keywords-stop = stop, dur, durdur, iptal, ret, bitir, abonelikten çık, abonelikten cik, abonelik iptal
keywords-start = start, başla, basla, başlat, baslat, yeniden başla, yeniden basla, tekrar başla, tekrar basla, abone ol
language-names = türkçe, turkce, Turkish

link-expired-title = Bu bağlantının süresi doldu
link-expired-text = Bu hesap bağlama bağlantısı artık geçerli değil: süresi doldu ya da tamamı kopyalanmadı. Yenisini almak için WhatsApp’ta { $service } hesabına herhangi bir mesaj gönderin.
link-unknown-title = Bağlantı bulunamadı
link-unknown-text = Bu bağlantı eksik ya da bize ait değil. { $service } uygulaması burada:
