"""The directive desk: leaders' directives (chỉ đạo) to departments, communes, the police and the IOC
operators, tracked to completion; public warnings to the wards' loudspeakers (CAP 1.2); and the
city's task tracker ("6 rõ").

- ``workflow``: the pure state machine (events → state), ``deadlines``: working days and hours;
- ``recipients``: who a directive can go to (read at run time), members and their scopes;
- ``store``: the repository (one transaction per change: event, projection, outbox, audit);
- ``delivery``: e-mail and signed webhooks from the outbox; ``worker``: delivery, retries, escalation;
- ``warnings``: public warnings as CAP 1.2 with a second person's approval for the highest severities;
- ``tasks``, ``tasks_kh40``, ``tasks_xlsx``: the task tracker, the KH 40/KH-UBND 2023 appendix
  parser and the XLSX import;
- ``stats`` and ``report``: on-time rates per recipient, the KPI ``directives.on_time`` and the
  periodic reports' section; ``wall``: the wall's overdue count.
"""
