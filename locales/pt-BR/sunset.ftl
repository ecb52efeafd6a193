# Brazilian Portuguese. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } está saindo do WhatsApp. { PLURAL($days) ->
        [one] Falta só 1 dia: o último dia é { $deadline }.
        [many] Faltam { $days } dias: o último dia é { $deadline }.
       *[other] Faltam { $days } dias: o último dia é { $deadline }.
    }

    Continue usando { $service } no app oficial:
    { $app_link }

    { $linking ->
        [on] Vincule sua conta até lá para manter seu histórico de conversas:
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Hoje é o último dia de { $service } no WhatsApp. O serviço termina em { PLURAL($hours) ->
        [one] { $hours } hora.
        [many] { $hours } horas.
       *[other] { $hours } horas.
    }

    Continue usando { $service } no app oficial:
    { $app_link }

    { $linking ->
        [on] Vincule sua conta agora para manter seu histórico de conversas:
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } não está mais disponível no WhatsApp.

    Continue no app oficial:
    { $app_link }

    { $linking ->
        [on] Vincule sua conta para recuperar seu histórico de conversas:
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    Você não vai mais receber mensagens de { $service } por aqui. Se quiser voltar a ter notícias nossas, responda ATIVAR.

start-confirmation =
    Que bom ter você de volta! { $service } vai continuar te avisando por aqui.

keywords-stop = stop, parar, pare, sair, cancelar, descadastrar, me descadastrar, desinscrever, chega
keywords-start = start, ativar, reativar, iniciar, começar, comecar, retomar, voltar a receber
language-names = português, portugues, português do brasil, portugues do brasil, Portuguese

link-expired-title = Este link expirou
link-expired-text = Este link para vincular sua conta não é mais válido: ele expirou ou não foi copiado por inteiro. Envie qualquer mensagem para { $service } no WhatsApp para receber um novo.
link-unknown-title = Link não encontrado
link-unknown-text = Este link está incompleto ou não é nosso. O app { $service } está aqui:
