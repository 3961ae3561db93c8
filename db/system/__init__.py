"""System-wide data: settings, time zones, news, alarms and the event log, charging
schedules.
"""
