"""API schemas shared by every router: the one error shape."""

from ninja import Schema


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class ErrorOut(Schema):
    """`{"error": {"code", "message", "fields"}}`, the body of every API error."""

    error: ErrorDetail
