"""Email over SMTP (aiosmtplib); without an SMTP host the message goes to the log instead, which
is what the embedded development setup wants."""

from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib
import structlog

from domain.global_ids import encode_global_id
from domain.models import Notification
from domain.notification_messages import EmailContent, email_content
from domain.settings import Settings
from workers.channels import PermanentDeliveryError

log = structlog.get_logger("goals.email")

SMTP_TIMEOUT_SECONDS = 30.0


def goal_link(settings: Settings, goal_id: int | None) -> str:
    base = settings.public_url.rstrip("/")
    return f"{base}/goals/{encode_global_id('Goal', goal_id)}" if goal_id is not None else base


def build_message(notification: Notification, settings: Settings) -> EmailMessage:
    recipient = notification.recipient
    content: EmailContent = email_content(
        notification.kind,
        notification.payload,
        recipient_name=recipient.name,
        link=goal_link(settings, notification.payload.get("goal", {}).get("id")),
    )
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Subject"] = content.subject
    message["Date"] = format_datetime(notification.created_at)
    # Stable per row: a receiving system can tell a resend of the same notification.
    domain = settings.mail_from.rpartition("@")[2] or "goals.invalid"
    message["Message-ID"] = f"<notification-{notification.id}@{domain}>"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    return message


async def send(notification: Notification, settings: Settings) -> None:
    message = build_message(notification, settings)
    if not settings.smtp_host:
        log.info(
            "email",
            to=message["To"],
            subject=message["Subject"],
            text=message.get_body(("plain",)).get_content(),  # type: ignore[union-attr]
        )
        return
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
            timeout=SMTP_TIMEOUT_SECONDS,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        if all(r.code >= 500 for r in error.recipients):
            raise PermanentDeliveryError(f"SMTP refused the recipient: {error}") from error
        raise
    except aiosmtplib.SMTPResponseException as error:
        if error.code >= 500:
            raise PermanentDeliveryError(f"SMTP refused the message: {error}") from error
        raise
