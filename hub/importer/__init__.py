"""Import members from a CSV file: good rows in, bad rows reported, re-runs harmless.

Columns (header names, any order, case- and accent-insensitive): ``phone``,
``email``, ``name``, ``birthday`` (YYYY-MM-DD or DD/MM/YYYY),
``opening_points``, ``total_spent``, or their Vietnamese names (``sdt``,
``so_dien_thoai``, ``ho_ten``, ``ngay_sinh``, ``diem``, ``tong_chi_tieu``;
``reading.ALIASES`` lists them all).
"""

from hub.importer.reading import COLUMNS
from hub.importer.reading import EncodingProblem
from hub.importer.reading import check_encoding_name
from hub.importer.reading import count_rows
from hub.importer.reading import preview
from hub.importer.running import ImportReport
from hub.importer.running import import_members

__all__ = [
    "COLUMNS",
    "EncodingProblem",
    "ImportReport",
    "check_encoding_name",
    "count_rows",
    "import_members",
    "preview",
]
