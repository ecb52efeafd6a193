# French. Same message ids and variables as en/sunset.ftl.

notice-countdown =
    { $service } quitte WhatsApp. { PLURAL($days) ->
        [one] Il ne reste qu’un jour : le dernier jour est le { $deadline }.
        [many] Il reste { $days } jours : le dernier jour est le { $deadline }.
       *[other] Il reste { $days } jours : le dernier jour est le { $deadline }.
    }

    Continuez à utiliser { $service } dans l’application officielle :
    { $app_link }

    { $linking ->
        [on] Associez votre compte d’ici là pour conserver l’historique de vos discussions :
            { $link_account }
       *[off] {""}
    }

notice-final-day =
    Dernier jour aujourd’hui pour { $service } sur WhatsApp : le service s’arrête dans { PLURAL($hours) ->
        [one] { $hours } heure.
        [many] { $hours } heures.
       *[other] { $hours } heures.
    }

    Continuez à utiliser { $service } dans l’application officielle :
    { $app_link }

    { $linking ->
        [on] Associez votre compte dès maintenant pour conserver l’historique de vos discussions :
            { $link_account }
       *[off] {""}
    }

notice-ended =
    { $service } n’est plus disponible sur WhatsApp.

    Retrouvez-nous dans l’application officielle :
    { $app_link }

    { $linking ->
        [on] Associez votre compte pour récupérer l’historique de vos discussions :
            { $link_account }
       *[off] {""}
    }

stop-confirmation =
    { $service } ne vous enverra plus de messages ici. Répondez REPRENDRE si vous souhaitez à nouveau avoir de nos nouvelles.

start-confirmation =
    Ravis de vous retrouver : { $service } vous tiendra au courant ici.

keywords-stop = stop, stopper, arrêter, arreter, arrêt, arret, désabonner, desabonner, me désabonner, me desabonner, désinscrire, desinscrire, annuler, n'envoyez plus
keywords-start = start, reprendre, démarrer, demarrer, commencer, réabonner, reabonner, me réabonner, me reabonner
language-names = français, francais, French

link-expired-title = Ce lien a expiré
link-expired-text = Ce lien d’association de compte n’est plus valide : il a expiré ou n’a pas été copié en entier. Envoyez n’importe quel message à { $service } sur WhatsApp pour en recevoir un nouveau.
link-unknown-title = Lien introuvable
link-unknown-text = Ce lien est incomplet ou ne vient pas de nous. L’application { $service } est ici :
