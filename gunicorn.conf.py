"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Chosen so a long download (a million-case export takes seconds to minutes) is never cut
off by the server:

- gthread workers. A sync worker reports to the master only between requests, so its
  `timeout` (30 s by default) kills it in the middle of any response that takes longer,
  and the client is left holding a file that merely stops. A gthread worker reports from
  its main loop while threads serve requests: `timeout` then ends only a worker that is
  truly stuck, never a slow download.
- A long `graceful_timeout`: on a restart or deploy (SIGHUP/SIGTERM) a worker stops
  taking requests and gets this long to finish the ones in flight, exports included,
  before it is killed.

If an export is cut off anyway (a crash, a proxy, the network), the client can tell: the
chunked response never ends properly, and the file lacks its TOTAL row (README, "Exports").
Every setting can be overridden on the command line or with the environment variables
named below.
"""

import os

bind = os.environ.get("SUPPLY_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("SUPPLY_THREADS", "4"))
timeout = int(os.environ.get("SUPPLY_WORKER_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("SUPPLY_GRACEFUL_TIMEOUT", "300"))
keepalive = 5
