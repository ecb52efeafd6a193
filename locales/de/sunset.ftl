# German. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } verabschiedet sich von WhatsApp. { PLURAL($days) ->
        [one] Nur noch 1 Tag: Der letzte Tag ist der { $deadline }.
       *[other] Noch { $days } Tage: Der letzte Tag ist der { $deadline }.
    }

    Nutze { $service } einfach in der offiziellen App weiter:
    { $app_link }

    { $linking ->
        [on] Verknüpfe vorher dein Konto, damit dein Chatverlauf erhalten bleibt:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Heute ist der letzte Tag von { $service } auf WhatsApp. Der Dienst endet in { PLURAL($hours) ->
        [one] 1 Stunde.
       *[other] { $hours } Stunden.
    }

    Nutze { $service } einfach in der offiziellen App weiter:
    { $app_link }

    { $linking ->
        [on] Verknüpfe jetzt dein Konto, damit dein Chatverlauf erhalten bleibt:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } ist auf WhatsApp nicht mehr verfügbar.

    Mach in der offiziellen App weiter:
    { $app_link }

    { $linking ->
        [on] Verknüpfe dein Konto, um deinen Chatverlauf wiederherzustellen:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Du bekommst hier keine Nachrichten mehr von { $service }. Antworte mit STARTEN, wenn du wieder von uns hören möchtest.

start-confirmation =
    Schön, dass du wieder da bist: { $service } hält dich hier auf dem Laufenden.

keywords-stop = stop, stopp, stoppen, abmelden, abbestellen, beenden, ende, kündigen, kuendigen, aufhören, aufhoeren, abbrechen
keywords-start = start, starten, anmelden, abonnieren, fortsetzen, wieder starten
language-names = Deutsch, German

link-expired-title = Dieser Link ist abgelaufen
link-expired-text = Dieser Link zum Verknüpfen deines Kontos ist nicht mehr gültig: Er ist abgelaufen oder wurde nicht vollständig kopiert. Schreib { $service } auf WhatsApp eine beliebige Nachricht, um einen neuen zu erhalten.
link-unknown-title = Link nicht gefunden
link-unknown-text = Dieser Link ist unvollständig oder stammt nicht von uns. Die App von { $service } gibt es hier:
