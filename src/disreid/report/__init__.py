"""Run reports: figures of what a trained model learned and where it fails, on one HTML page."""

from disreid.report.build import REPORT_DIR, REPORT_FILE, RESULTS_FILE, make_report

__all__ = ["REPORT_DIR", "REPORT_FILE", "RESULTS_FILE", "make_report"]
