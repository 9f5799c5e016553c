"""hwd-central: the county's supervisors' pages over the PostgreSQL every hall streams into
(hwd.county). All halls on one page, per hall / window / staff / matter tables for the day,
week, month and quarter with CSV export, charts drawn on the server as SVG."""

from central.app import create_app

__all__ = ["create_app"]
