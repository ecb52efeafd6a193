# Indonesian. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } akan pamit dari WhatsApp. { PLURAL($days) ->
       *[other] Tinggal { $days } hari lagi: hari terakhirnya { $deadline }.
    }

    Terus gunakan { $service } lewat aplikasi resminya:
    { $app_link }

    { $linking ->
        [on] Tautkan akun Anda sebelum tanggal itu agar riwayat chat Anda tetap tersimpan:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Hari ini adalah hari terakhir { $service } di WhatsApp. Layanan akan berhenti dalam { PLURAL($hours) ->
       *[other] { $hours } jam.
    }

    Terus gunakan { $service } lewat aplikasi resminya:
    { $app_link }

    { $linking ->
        [on] Tautkan akun Anda sekarang agar riwayat chat Anda tetap tersimpan:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } sudah tidak tersedia di WhatsApp.

    Lanjutkan lewat aplikasi resminya:
    { $app_link }

    { $linking ->
        [on] Tautkan akun Anda untuk memulihkan riwayat chat Anda:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Anda tidak akan menerima pesan lagi dari { $service } di sini. Balas MULAI jika ingin mendapat kabar dari kami lagi.

start-confirmation =
    Selamat datang kembali! { $service } akan terus memberi Anda kabar di sini.

keywords-stop = stop, berhenti, hentikan, stop langganan, berhenti langganan, batal, batalkan, unsubscribe
keywords-start = start, mulai, mulai lagi, langganan, berlangganan, aktifkan
language-names = bahasa indonesia, indonesia, Indonesian

link-expired-title = Tautan ini sudah kedaluwarsa
link-expired-text = Tautan untuk menautkan akun ini sudah tidak berlaku: sudah kedaluwarsa atau tidak tersalin lengkap. Kirim pesan apa saja ke { $service } di WhatsApp untuk menerima tautan baru.
link-unknown-title = Tautan tidak ditemukan
link-unknown-text = Tautan ini tidak lengkap atau bukan milik kami. Aplikasi { $service } ada di sini:
