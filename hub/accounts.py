"""django-allauth's adapter (ACCOUNT_ADAPTER): where Hub adds its rules to allauth's flows."""

from allauth.account.adapter import DefaultAccountAdapter

from hub import app_settings
from hub.names import normalize_name


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        """A new username is NFKC-normalised and free of invisible characters (hub.names), then allauth's checks.

        Normalising first means the user model's validator and allauth's uniqueness test see the
        stored spelling: "ｆｕｌｌ" is taken when "full" is.
        """
        username = normalize_name(username, max_length=app_settings.USERNAME_MAX_LENGTH)
        return super().clean_username(username, shallow=shallow)
