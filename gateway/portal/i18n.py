"""The portal's words in English and French, and which language a request gets:
``?lang=`` (remembered in the ``portal_lang`` cookie), else the cookie, else
the browser's Accept-Language, else English."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("en", "fr")
DEFAULT = "en"
COOKIE = "portal_lang"

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "portal": "Invoice portal",
        "skip": "Skip to content",
        "sign_in": "Sign in",
        "sign_in_intro": "Enter the e-mail address your company receives invoices at."
        " We will send you a sign-in link that works once, for 15 minutes.",
        "email": "E-mail address",
        "send_link": "Send me a sign-in link",
        "link_sent": "If this address belongs to a company we deliver to, a sign-in link is on"
        " its way. It works once, for 15 minutes.",
        "link_invalid": "This sign-in link cannot be used",
        "link_invalid_why": "It has expired, was already used, or is not one of ours."
        " Ask for a new one.",
        "ask_again": "Ask for a new link",
        "too_many": "Too many sign-in requests. Try again in {seconds} seconds.",
        "inbox": "Documents",
        "preferences": "Preferences",
        "sign_out": "Sign out",
        "sender": "Sender",
        "number": "Number",
        "date": "Date",
        "amount": "Amount",
        "state": "State",
        "any_state": "Any state",
        "since": "Received since",
        "filter": "Filter",
        "next_page": "Older documents",
        "no_documents": "No documents.",
        "download_pdf": "Download the PDF",
        "download_ubl": "Download the UBL (XML)",
        "mark_taken": "Mark as taken",
        "back": "Back to the documents",
        "reception": "How you receive",
        "first_choice": "First choice",
        "second_choice": "Second choice",
        "third_choice": "Third choice",
        "none": "(none)",
        "address": "Postal address (one line per address line)",
        "save": "Save",
        "saved": "Saved: your next document is delivered this way.",
        "company": "Your company",
        "name": "Name",
        "identifier": "Identifier",
        "history": "Changes",
        "not_found": "Not found",
        "not_found_why": "There is no such page or document here.",
        "forbidden": "This form has expired",
        "forbidden_why": "Reload the page and try again.",
        "bad_input": "Please check what you entered",
        "mode_network": "Our network (your access point)",
        "mode_api": "API (your software fetches them)",
        "mode_email": "E-mail",
        "mode_portal": "This portal",
        "mode_paper": "Paper (by post)",
        "language": "Language",
    },
    "fr": {
        "portal": "Portail des factures",
        "skip": "Aller au contenu",
        "sign_in": "Connexion",
        "sign_in_intro": "Saisissez l'adresse e-mail à laquelle votre entreprise reçoit ses"
        " factures. Nous vous enverrons un lien de connexion valable une fois, 15 minutes.",
        "email": "Adresse e-mail",
        "send_link": "M'envoyer un lien de connexion",
        "link_sent": "Si cette adresse est celle d'une entreprise que nous servons, un lien de"
        " connexion lui est envoyé. Il est valable une fois, 15 minutes.",
        "link_invalid": "Ce lien de connexion ne peut pas être utilisé",
        "link_invalid_why": "Il a expiré, a déjà servi ou ne vient pas de nous."
        " Demandez-en un nouveau.",
        "ask_again": "Demander un nouveau lien",
        "too_many": "Trop de demandes de lien. Réessayez dans {seconds} secondes.",
        "inbox": "Documents",
        "preferences": "Préférences",
        "sign_out": "Se déconnecter",
        "sender": "Émetteur",
        "number": "Numéro",
        "date": "Date",
        "amount": "Montant",
        "state": "État",
        "any_state": "Tous les états",
        "since": "Reçus depuis le",
        "filter": "Filtrer",
        "next_page": "Documents plus anciens",
        "no_documents": "Aucun document.",
        "download_pdf": "Télécharger le PDF",
        "download_ubl": "Télécharger l'UBL (XML)",
        "mark_taken": "Marquer comme pris",
        "back": "Retour aux documents",
        "reception": "Comment vous recevez",
        "first_choice": "Premier choix",
        "second_choice": "Deuxième choix",
        "third_choice": "Troisième choix",
        "none": "(aucun)",
        "address": "Adresse postale (une ligne par ligne d'adresse)",
        "save": "Enregistrer",
        "saved": "Enregistré : votre prochain document vous parviendra ainsi.",
        "company": "Votre entreprise",
        "name": "Nom",
        "identifier": "Identifiant",
        "history": "Modifications",
        "not_found": "Introuvable",
        "not_found_why": "Cette page ou ce document n'existe pas ici.",
        "forbidden": "Ce formulaire a expiré",
        "forbidden_why": "Rechargez la page et réessayez.",
        "bad_input": "Vérifiez votre saisie",
        "mode_network": "Notre réseau (votre point d'accès)",
        "mode_api": "API (votre logiciel les récupère)",
        "mode_email": "E-mail",
        "mode_portal": "Ce portail",
        "mode_paper": "Papier (par la poste)",
        "language": "Langue",
    },
}


def from_accept_language(header: str) -> str:
    """The best of LANGUAGES by the header's q-values; DEFAULT when none fits."""
    best, best_q = DEFAULT, 0.0
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # earlier wins a tie
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best


def choose(query: Mapping[str, str], cookies: Mapping[str, str], accept: str) -> str:
    asked = query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    kept = cookies.get(COOKIE, "")
    if kept in LANGUAGES:
        return kept
    return from_accept_language(accept)
