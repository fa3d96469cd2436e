"""Names of the files in a local cloud state dir and the server's health path (no heavy imports).

Data flow: the server writes these files; `LocalCloud` (which must stay cheap to
import for the CLI) reads and removes them.
"""

from __future__ import annotations

JOURNAL_FILE = "journal.jsonl"  # mutating requests since the snapshot, one JSON line each
SNAPSHOT_FILE = "state.pickle"  # moto's state up to a journal sequence number
LOCK_FILE = "server.lock"  # flock held by the one server of this state dir
PID_FILE = "cloud.pid"
STANDINS_DIR = "standins"  # the local stand-ins that `dev` runs keep their objects here (stagewise/standins.py)
PORT_FILE = "cloud.port"  # the port of the last start, so commands find the cloud without a flag
LOG_FILE = "cloud.log"
PROVISIONER_DIR = "provisioner"  # in-flight deploy checkpoints of the local provisioner (provisioner/store.py)
ORIGINS_FILE = "cors-origins"  # origins a browser may call the cloud from, one a line (cloud/origins.py)
USERPOOL_KEY_FILE = "userpool.key"  # the local user pools sign tokens with it (cloud/userpool_keys.py)
STATE_KEY_FILE = "state.key"  # seals the journal and the snapshot at rest (cloud/sealing.py)
IDENTITY_KEY_FILE = "identity.key"  # signs the credentials the local identity pools issue (cloud/identities.py)
SIGN_IN_FILE = "sign-in.json"  # what `stagewise token` needs to sign a known user in with one call (auth_local.py)
TRACES_DIR = "traces"  # the local stages' traces and function logs (stagewise/tracing/local.py)
HEALTH_PATH = "/_stagewise/health"
SMS_PATH = "/_stagewise/sms"  # the SMS the cloud has sent, with their times (stagewise.cloud.sms)
# Everything the local cloud keeps; reset removes exactly these (never a whole folder a user pointed at).
STATE_FILES = (JOURNAL_FILE, SNAPSHOT_FILE, PID_FILE, PORT_FILE, LOG_FILE, LOCK_FILE, STANDINS_DIR,
               PROVISIONER_DIR, IDENTITY_KEY_FILE, ORIGINS_FILE, USERPOOL_KEY_FILE, STATE_KEY_FILE, SIGN_IN_FILE,
               TRACES_DIR)
