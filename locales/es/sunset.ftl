# Spanish. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } se despide de WhatsApp. { PLURAL($days) ->
        [one] Solo queda 1 día: el último día es el { $deadline }.
        [many] Quedan { $days } días: el último día es el { $deadline }.
       *[other] Quedan { $days } días: el último día es el { $deadline }.
    }

    Sigue usando { $service } en la app oficial:
    { $app_link }

    { $linking ->
        [on] Vincula tu cuenta antes de esa fecha para conservar tu historial de chats:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Hoy es el último día de { $service } en WhatsApp. El servicio termina en { PLURAL($hours) ->
        [one] 1 hora.
        [many] { $hours } horas.
       *[other] { $hours } horas.
    }

    Sigue usando { $service } en la app oficial:
    { $app_link }

    { $linking ->
        [on] Vincula tu cuenta ahora para conservar tu historial de chats:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } ya no está disponible en WhatsApp.

    Continúa en la app oficial:
    { $app_link }

    { $linking ->
        [on] Vincula tu cuenta para recuperar tu historial de chats:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Ya no recibirás más mensajes de { $service } por aquí. Si quieres volver a saber de nosotros, responde EMPEZAR.

start-confirmation =
    ¡Qué bien tenerte de vuelta! { $service } te seguirá informando por aquí.

keywords-stop = stop, parar, detener, basta, baja, darme de baja, dar de baja, cancelar, cancelar suscripción, cancelar suscripcion, desuscribir, desuscribirme
keywords-start = start, empezar, comenzar, iniciar, alta, darme de alta, suscribir, suscribirme, reanudar, activar
language-names = español, espanol, castellano, Spanish

link-expired-title = Este enlace ha caducado
link-expired-text = Este enlace para vincular tu cuenta ya no es válido: caducó o no se copió completo. Envía cualquier mensaje a { $service } en WhatsApp para recibir uno nuevo.
link-unknown-title = Enlace no encontrado
link-unknown-text = Este enlace está incompleto o no es nuestro. La app de { $service } está aquí:
