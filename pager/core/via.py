"""Where an action on an incident came from: the `via` of its timeline events.

One vocabulary for every path that acknowledges, resolves, escalates or posts
an update, so a timeline (and a review) says truthfully whether a resolve came
from Alertmanager, a script, a heartbeat, a reply, a keypress, the API, the
command line or the console.
"""

from __future__ import annotations

from enum import StrEnum


class Via(StrEnum):
    ALERTMANAGER = "alertmanager"  # a resolved notification from Alertmanager
    GENERIC = "generic"  # the generic webhook (scripts)
    HEARTBEAT = "heartbeat"  # a heartbeat's ping ended its silence
    DRILL = "drill"  # a drill reached its deadline unanswered
    SMS = "sms"  # a reply to a page
    VOICE = "voice"  # a keypress on a page call
    API = "api"  # the admin API
    CLI = "cli"  # the `pager` command: the admin API, told apart by its User-Agent
    CONSOLE = "console"  # the web console


# `pager`'s own client (pager.commands.client) sends this User-Agent prefix; the admin
# API records what it does as `via: cli` instead of `api`.
CLI_USER_AGENT = "pager-cli/"
