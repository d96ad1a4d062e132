"""`manage.py accesskey create --name NAME` prints one JSON line {"id", "secret"} (the secret is
not shown again); `manage.py accesskey revoke ID`; `manage.py accesskey list`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from console.api.models import AccessKey
from console.dialects import keys


class Command(BaseCommand):
    help = "Create, list or revoke access keys for the Tencent and Alibaba API dialects."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key and print it once as JSON")
        create.add_argument("--name", required=True)
        revoke = actions.add_parser("revoke", help="revoke a key at once")
        revoke.add_argument("key_id")
        actions.add_parser("list", help="list keys (never their secrets)")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if options["action"] == "create":
            key, secret = keys.create_access_key(options["name"])
            self.stdout.write(json.dumps({"id": key.key_id, "secret": secret}))
        elif options["action"] == "revoke":
            if not keys.revoke_access_key(options["key_id"]):
                raise CommandError(f"no access key {options['key_id']}")
            self.stdout.write(f"revoked {options['key_id']}")
        else:
            for key in AccessKey.objects.all():
                state = "revoked" if key.revoked_at else "active"
                self.stdout.write(f"{key.key_id}\t{key.name}\t{state}\t{key.created_at:%Y-%m-%d %H:%M}")
