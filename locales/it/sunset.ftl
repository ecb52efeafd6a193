# Italian. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } lascia WhatsApp. { PLURAL($days) ->
        [one] Manca solo 1 giorno: l’ultimo giorno è il { $deadline }.
        [many] Mancano { $days } giorni: l’ultimo giorno è il { $deadline }.
       *[other] Mancano { $days } giorni: l’ultimo giorno è il { $deadline }.
    }

    Continua a usare { $service } nell’app ufficiale:
    { $app_link }

    { $linking ->
        [on] Collega il tuo account entro quella data per conservare la cronologia delle chat:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Oggi è l’ultimo giorno di { $service } su WhatsApp. Il servizio termina tra { PLURAL($hours) ->
        [one] 1 ora.
        [many] { $hours } ore.
       *[other] { $hours } ore.
    }

    Continua a usare { $service } nell’app ufficiale:
    { $app_link }

    { $linking ->
        [on] Collega subito il tuo account per conservare la cronologia delle chat:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } non è più disponibile su WhatsApp.

    Continua nell’app ufficiale:
    { $app_link }

    { $linking ->
        [on] Collega il tuo account per recuperare la cronologia delle chat:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Non riceverai più messaggi da { $service } qui. Se vuoi tornare a ricevere nostre notizie, rispondi RIATTIVA.

start-confirmation =
    Che piacere riaverti qui: { $service } continuerà a mandarti aggiornamenti in questa chat.

keywords-stop = stop, basta, ferma, fermati, annulla, disiscrivimi, cancellami, disattiva, termina
keywords-start = start, riattiva, attiva, avvia, inizia, iscrivimi, riprendi
language-names = italiano, Italian

link-expired-title = Questo link è scaduto
link-expired-text = Questo link per collegare l’account non è più valido: è scaduto o non è stato copiato per intero. Invia un messaggio qualsiasi a { $service } su WhatsApp per riceverne uno nuovo.
link-unknown-title = Link non trovato
link-unknown-text = Questo link è incompleto o non è nostro. L’app { $service } è qui:
