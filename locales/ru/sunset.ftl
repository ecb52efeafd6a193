# Russian. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } уходит из WhatsApp. { PLURAL($days) ->
        [one] Остался { $days } день: последний день — { $deadline }
        [few] Осталось { $days } дня: последний день — { $deadline }
        [many] Осталось { $days } дней: последний день — { $deadline }
       *[other] Осталось { $days } дня: последний день — { $deadline }
    }

    Продолжайте пользоваться { $service } в официальном приложении:
    { $app_link }

    { $linking ->
        [on] Привяжите аккаунт до этой даты, чтобы сохранить историю чатов:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Сегодня последний день работы { $service } в WhatsApp. Сервис отключится через { PLURAL($hours) ->
        [one] { $hours } час.
        [few] { $hours } часа.
        [many] { $hours } часов.
       *[other] { $hours } часа.
    }

    Продолжайте пользоваться { $service } в официальном приложении:
    { $app_link }

    { $linking ->
        [on] Привяжите аккаунт прямо сейчас, чтобы сохранить историю чатов:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } больше не работает в WhatsApp.

    Продолжайте в официальном приложении:
    { $app_link }

    { $linking ->
        [on] Привяжите аккаунт, чтобы восстановить историю чатов:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Вы больше не будете получать здесь сообщения от { $service }. Чтобы снова получать от нас новости, отправьте СТАРТ.

start-confirmation =
    С возвращением! { $service } продолжит держать вас в курсе здесь.

keywords-stop = stop, стоп, остановить, отписаться, отписка, хватит, прекратить, отменить, не присылать
keywords-start = start, старт, начать, подписаться, возобновить, включить
language-names = русский, русский язык, Russian

link-expired-title = Срок действия ссылки истёк
link-expired-text = Эта ссылка для привязки аккаунта больше не действует: срок её действия истёк или она скопирована не полностью. Отправьте любое сообщение в чат { $service } в WhatsApp, чтобы получить новую.
link-unknown-title = Ссылка не найдена
link-unknown-text = Эта ссылка неполная или не наша. Приложение { $service } здесь:
