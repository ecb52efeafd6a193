# English: the reference locale. Every other locale has the same message ids
# and uses the same variables.
#
# Variables: $service, $days, $hours, $deadline (the last day, written the
# locale's way), $app_link (the smart link to the apps), $ios, $android, $web,
# $linking ("on" or "off") and $link_account (only when $linking is "on"),
# plus every key of [campaign.vars].
# PLURAL($n) gives the CLDR category of $n: zero, one, two, few, many, other.
# Keep every URL on a line of its own.

notice-countdown =
    { $service } is leaving WhatsApp. { PLURAL($days) ->
        [one] Only 1 day left: { $deadline } is the last day.
       *[other] { $days } days left: { $deadline } is the last day.
    }

    Keep using { $service } in the official app:
    { $app_link }

    { $linking ->
        [on] Link your account before then to keep your chat history:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Today is the last day of { $service } on WhatsApp. It stops in { PLURAL($hours) ->
        [one] 1 hour.
       *[other] { $hours } hours.
    }

    Keep using { $service } in the official app:
    { $app_link }

    { $linking ->
        [on] Link your account now to keep your chat history:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } is no longer available on WhatsApp.

    Continue in the official app:
    { $app_link }

    { $linking ->
        [on] Link your account to recover your chat history:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    You will get no more messages from { $service } here. Reply START to hear from us again.

start-confirmation =
    Welcome back: { $service } will keep you informed here.

keywords-stop = stop, unsubscribe, cancel, end, quit, opt out
keywords-start = start, subscribe, unstop
language-names = English

# Pages a browser shows when one of our links cannot be followed. Optional:
# a locale without them shows English.
link-expired-title = This link has expired
link-expired-text = This account-linking link is no longer valid: it expired, or it was not copied whole. Send any message to { $service } on WhatsApp to receive a new one.
link-unknown-title = Link not found
link-unknown-text = This link is not complete, or not one of ours. The { $service } app is here:
