"""``python -m labkit.service``: the child process that serves one app (see :mod:`labkit.service.process`)."""

from labkit.service.process import child_main

child_main()
