"""Reading a user import file: CSV (UTF-8 with or without BOM, UTF-16, or GBK/GB18030 as
Excel saves it on a Chinese Windows) or XLSX, into validated rows with per-row errors.

Nothing here touches storage: a file is parsed and every row checked on its own (the
username and password rules of registration, lengths, a username given twice) before
anything is written, so the preview (dry run) and the import report the same errors,
each with its line (the header is line 1; in a spreadsheet, the row number). One bad row
never stops the others.

Columns are found by their header, in English or Chinese (`username`/`用户名`, ...), in
any order; unknown columns are ignored (PROTOCOL §7 allows more columns).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from semot.domain import org as org_rules
from semot.domain.users import username_key
from semot.errors import BadRequest, SemotError, TooLarge
from semot.services.accounts import check_password, check_username

MAX_ROWS = 100_000  # data rows per file
MAX_DISPLAY_NAME = 128  # as the users table and profiles allow
MAX_CELL = 1024  # characters in any one cell we read
XLSX_MAX_UNPACKED = 256 * 1024 * 1024  # a spreadsheet's XML, unpacked: refuses zip bombs
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# column -> header spellings accepted (compared lower-cased, with spaces, "-" and "_" removed)
COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("username", "user", "login", "loginname", "account", "用户名", "账号", "帐号", "登录名", "工号"),
    "password": ("password", "initialpassword", "密码", "初始密码"),
    "display_name": ("displayname", "name", "fullname", "姓名", "显示名", "显示名称", "名称", "昵称"),
    "department": ("department", "dept", "departmentpath", "部门", "部门路径", "所属部门"),
    "title": ("title", "jobtitle", "position", "职务", "职位", "岗位", "头衔"),
    "is_admin": ("isadmin", "admin", "administrator", "管理员", "是否管理员"),
    "disabled": ("disabled", "禁用", "停用", "是否禁用"),
}
_TRUE = {"1", "true", "yes", "y", "t", "是", "√"}
_FALSE = {"0", "false", "no", "n", "f", "否"}


@dataclass(slots=True, frozen=True)
class RowError:
    line: int
    message: str
    username: str = ""  # as written in the file (for the report), when there is one

    def to_wire(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass(slots=True)
class UserRow:
    """One valid row. None means "not given": a new user gets the default (display name =
    username, no password: SSO or a set-password link), an existing one keeps what it has."""

    line: int
    username: str
    password: str | None = None
    display_name: str | None = None
    department: list[str] | None = None  # path from the top, e.g. ["总部", "研发部"]
    title: str | None = None
    is_admin: bool | None = None
    disabled: bool | None = None

    @property
    def key(self) -> str:
        return username_key(self.username)

    def preview(self) -> dict[str, Any]:
        """The row as the dry run shows it (never the password itself)."""
        return {
            "line": self.line,
            "username": self.username,
            "display_name": self.display_name,
            "department": org_rules.PATH_SEP.join(self.department) if self.department else None,
            "title": self.title,
            "is_admin": self.is_admin,
            "disabled": self.disabled,
            "has_password": self.password is not None,
        }


@dataclass(slots=True)
class ParsedFile:
    rows: list[UserRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # recognised, in file order
    ignored: list[str] = field(default_factory=list)  # headers we do not know

    @property
    def total(self) -> int:
        """Data rows that were not blank: the good ones and the bad ones."""
        return len(self.rows) + len({e.line for e in self.errors})


# --- reading the bytes ------------------------------------------------------------------


def kind_of(data: bytes, content_type: str = "", filename: str = "") -> str:
    """The kind of file, "xlsx" or "csv": the bytes decide first (a browser may say octet-stream for both)."""
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise BadRequest("this is an old Excel file (.xls): save it as .xlsx or CSV (UTF-8) and import that")
    ct = content_type.split(";")[0].strip().lower()
    if ct == XLSX_TYPE or filename.lower().endswith(".xlsx"):
        raise BadRequest("not a valid .xlsx file")
    return "csv"


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), UTF-16 with a BOM (Excel's "Unicode text"), else GB18030,
    the superset of GBK that Excel on a Chinese Windows writes ("CSV (逗号分隔)")."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise BadRequest("the file starts like UTF-16 text but is not") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise BadRequest("the file is neither UTF-8 nor GBK text: save it as CSV (UTF-8)") from None


def _delimiter(first_line: str) -> str:
    """Comma, tab (Excel's "Unicode text") or semicolon (Excel where "," is the decimal
    mark): whichever the header uses most."""
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, cells); a quoted cell may span lines."""
    head = text.lstrip("\r\n")[:4096]
    end = head.find("\n")
    first = head if end < 0 else head[:end]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise BadRequest(f"line {reader.line_num}: not valid CSV ({exc})") from None


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a person typed: 1001 and 1001.0 are "1001"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def xlsx_records(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The first worksheet's rows, streamed (openpyxl read-only mode)."""
    from openpyxl import load_workbook  # imported on first use: most servers never read a spreadsheet

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise BadRequest("not a valid .xlsx file") from None
    if unpacked > XLSX_MAX_UNPACKED:
        raise TooLarge(f"the spreadsheet unpacks to more than {XLSX_MAX_UNPACKED // 2**20} MiB")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise BadRequest(f"not a readable .xlsx file ({type(exc).__name__})") from None
    try:
        if not wb.worksheets:
            raise BadRequest("the spreadsheet has no worksheet")
        ws = wb.worksheets[0]
        for number, row in enumerate(ws.iter_rows(values_only=True), 1):
            yield number, [_cell_text(v) for v in row]
    except SemotError:
        raise
    except Exception as exc:
        raise BadRequest(f"not a readable .xlsx file ({type(exc).__name__})") from None
    finally:
        wb.close()


# --- rows -------------------------------------------------------------------------------


def _norm_header(h: str) -> str:
    return "".join(ch for ch in h.strip().lstrip("\ufeff").lower() if ch not in " _-\t")


def map_header(cells: list[str], line: int = 1) -> tuple[dict[str, int], list[str]]:
    """Column name -> index, and the headers nobody knows."""
    lookup = {alias: name for name, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    ignored: list[str] = []
    for i, cell in enumerate(cells):
        name = lookup.get(_norm_header(cell))
        if name is None:
            if cell.strip():
                ignored.append(cell.strip()[:64])
        elif name in found:
            raise BadRequest(f"line {line}: the column {name!r} appears twice")
        else:
            found[name] = i
    if "username" not in found:
        raise BadRequest(
            f"line {line}: the header must name the columns, with at least username (username,password,display_name)"
        )
    return found, ignored


def _bool(name: str, text: str) -> bool | None:
    t = text.strip().lower()
    if not t:
        return None
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise BadRequest(f"{name}: write true or false (or 1/0, yes/no, 是/否)")


def _clean(text: str, name: str) -> str:
    if len(text) > MAX_CELL:
        raise BadRequest(f"{name}: at most {MAX_CELL} characters")
    if any(ord(ch) < 32 and ch not in "\t" for ch in text):
        raise BadRequest(f"{name}: control characters are not allowed")
    return text


def check_row(line: int, get: dict[str, str]) -> UserRow:
    """One data row -> a UserRow, or BadRequest with the first problem found."""
    for name, value in get.items():
        _clean(value, name)
    username = get.get("username", "").strip()
    if not username:
        raise BadRequest("username: missing")
    try:
        check_username(username)
    except BadRequest:
        raise BadRequest(f"username {username[:40]!r}: 2-32 characters from A-Z a-z 0-9 _ . -") from None
    row = UserRow(line, username)
    password = get.get("password", "")
    if password != "":  # not stripped: spaces may be part of a password
        check_password(password)
        row.password = password
    name = get.get("display_name", "").strip()
    if name:
        if len(name) > MAX_DISPLAY_NAME:
            raise BadRequest(f"display_name: at most {MAX_DISPLAY_NAME} characters")
        row.display_name = name
    path = get.get("department", "").strip()
    if path:
        try:
            row.department = org_rules.split_path(path)
        except BadRequest as exc:
            raise BadRequest(f"department: {exc.message}") from None
    if "title" in get and get["title"].strip():
        try:
            row.title = org_rules.clean_title(get["title"])
        except BadRequest as exc:
            raise BadRequest(exc.message) from None
        if row.department is None:
            raise BadRequest("title: a title belongs to a department; fill the department column too")
    row.is_admin = _bool("is_admin", get.get("is_admin", ""))
    row.disabled = _bool("disabled", get.get("disabled", ""))
    return row


def parse_records(records: Iterable[tuple[int, list[str]]], *, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Header first (blank lines before it are skipped), then one row per record; blank
    records are skipped; a username given again (in any letter case) is an error on the
    later line."""
    out = ParsedFile()
    header: dict[str, int] | None = None
    first_line: dict[str, int] = {}
    count = 0
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header, out.ignored = map_header(cells, line)
            out.columns = sorted(header, key=lambda n: header[n] if header else 0)
            continue
        count += 1
        if count > max_rows:
            raise TooLarge(f"at most {max_rows} rows per import; split the file")
        get = {name: (cells[i] if i < len(cells) else "") for name, i in header.items()}
        try:
            row = check_row(line, get)
        except BadRequest as exc:
            out.errors.append(RowError(line, exc.message, get.get("username", "").strip()[:64]))
            continue
        seen = first_line.get(row.key)
        if seen is not None:
            out.errors.append(RowError(line, f"username {row.username!r} is already on line {seen}", row.username))
            continue
        first_line[row.key] = line
        out.rows.append(row)
    if header is None:
        raise BadRequest("the file is empty: the first line must be the header username,password,display_name")
    return out


def parse_file(data: bytes, content_type: str = "", filename: str = "", *, max_rows: int = MAX_ROWS) -> ParsedFile:
    """Bytes of a CSV or XLSX file -> rows and per-row errors (BadRequest/TooLarge for a
    file that cannot be read at all). CPU-bound: call it off the event loop for big files."""
    if not data.strip():
        raise BadRequest("the file is empty: the first line must be the header username,password,display_name")
    if kind_of(data, content_type, filename) == "xlsx":
        return parse_records(xlsx_records(data), max_rows=max_rows)
    return parse_records(csv_records(decode_text(data)), max_rows=max_rows)
