"""A registrar grant on a school is created inactive when that school year's agreement is unsigned.

pre_save (not post_save) so that the row, its history and ``accounts.services.role_grant`` (which
assigns permissions only for an active grant) all see the inactive state from the start.
"""

from django.db.models.signals import pre_save
from django.dispatch import receiver

from accounts.models import RoleGrant


@receiver(pre_save, sender=RoleGrant, dispatch_uid="agreements_registrar_grant_needs_agreement")
def registrar_grant_needs_agreement(sender, instance: RoleGrant, raw=False, **kwargs):
    if raw or not instance._state.adding or not instance.is_active:
        return
    from .services import registrar_grant_should_be_active

    active, reason = registrar_grant_should_be_active(instance)
    if not active:
        instance.is_active = False
        instance.inactive_reason = reason
