"""What a change to a user does to their login sessions, however the change is made."""

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from accounts.models import User
from login_sessions.services import login_sessions_user_changed, login_sessions_user_deleted

# A login writes last_login on every login, through SimpleJWT and Django alike: nothing a
# login session keeps depends on it, and every login would otherwise refresh every entry.
UNRELATED_FIELDS = frozenset({"last_login"})


@receiver(post_save, sender=User, dispatch_uid="login_sessions_user_saved")
def user_saved(sender, instance: User, created: bool, update_fields, **kwargs):
    if created or (update_fields and UNRELATED_FIELDS.issuperset(update_fields)):
        return
    login_sessions_user_changed(user=instance)


@receiver(pre_delete, sender=User, dispatch_uid="login_sessions_user_deleted")
def user_deleted(sender, instance: User, **kwargs):
    login_sessions_user_deleted(user=instance)
