# Hindi. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    WhatsApp पर { $service } की सेवा बंद हो रही है। { PLURAL($days) ->
        [one] बस 1 दिन बचा है: आखिरी दिन { $deadline } है।
       *[other] { $days } दिन बचे हैं: आखिरी दिन { $deadline } है।
    }

    आधिकारिक ऐप पर { $service } का इस्तेमाल जारी रखें:
    { $app_link }

    { $linking ->
        [on] अपनी चैट हिस्ट्री बचाए रखने के लिए उससे पहले अपना अकाउंट लिंक कर लें:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    आज WhatsApp पर { $service } का आखिरी दिन है। यह सेवा { PLURAL($hours) ->
        [one] { $hours } घंटे में बंद हो जाएगी।
       *[other] { $hours } घंटे में बंद हो जाएगी।
    }

    आधिकारिक ऐप पर { $service } का इस्तेमाल जारी रखें:
    { $app_link }

    { $linking ->
        [on] अपनी चैट हिस्ट्री बचाए रखने के लिए अभी अपना अकाउंट लिंक करें:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } अब WhatsApp पर उपलब्ध नहीं है।

    आधिकारिक ऐप पर जारी रखें:
    { $app_link }

    { $linking ->
        [on] अपनी चैट हिस्ट्री वापस पाने के लिए अपना अकाउंट लिंक करें:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    अब आपको यहाँ { $service } से कोई मैसेज नहीं मिलेगा। हमारे मैसेज फिर से पाने के लिए "शुरू" भेजें।

start-confirmation =
    आपका फिर से स्वागत है! अब आपको यहाँ { $service } से जानकारी मिलती रहेगी।

keywords-stop = stop, रोकें, रोको, रोक दें, बंद, बंद करें, बंद करो, मैसेज बंद करें, band, band karo, roko
keywords-start = start, शुरू, शुरू करें, शुरू करो, फिर से शुरू करें, चालू, चालू करें, shuru, shuru karo, chalu
language-names = हिंदी, हिन्दी, Hindi

link-expired-title = इस लिंक की समय-सीमा समाप्त हो गई है
link-expired-text = खाता जोड़ने का यह लिंक अब मान्य नहीं है: इसकी समय-सीमा समाप्त हो गई है या इसे पूरा कॉपी नहीं किया गया। नया लिंक पाने के लिए WhatsApp पर { $service } को कोई भी संदेश भेजें।
link-unknown-title = लिंक नहीं मिला
link-unknown-text = यह लिंक अधूरा है या हमारा नहीं है। { $service } ऐप यहाँ है:
