"""kstlib compatibility: kstlib.monitoring's API continued under its own names.

``MonitoringService``, ``Monitoring``, the deliveries, the renderer functions and the
``*.monitor.yml`` files. It depends on the layers below; nothing below imports it.
"""
