"""The REST API's shared plumbing: one error format, one pagination style, and the
few steps every view repeats (validate the input, paginate a list, document errors).

Every error the API returns has the shape::

    {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}

``fields`` maps an input field name to its messages (``"non_field_errors"`` for the
input as a whole) and is empty when the error is not about the input.
"""

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

if TYPE_CHECKING:  # rest_framework.generics imports this module for the pagination class
    from rest_framework.generics import GenericAPIView


class HubPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def paginated(
    view: "GenericAPIView[Any]",
    queryset: QuerySet[Any],
    serializer_class: type[serializers.BaseSerializer[Any]],
    *,
    context: Mapping[str, Any] | Callable[[list[Any]], Mapping[str, Any]] | None = None,
) -> Response:
    """One page of ``queryset`` (``?page=``, ``?page_size=``) serialised with
    ``serializer_class``, in the paginated envelope. ``context`` is the serializer
    context, or a function of the page's items that returns it (for data loaded per
    page)."""
    page = list(view.paginate_queryset(queryset) or [])
    extra = context(page) if callable(context) else context
    data = serializer_class(page, many=True, context=dict(extra or {})).data
    return view.get_paginated_response(data)


def validated(serializer_class: type[serializers.BaseSerializer[Any]], data: Any) -> dict[str, Any]:
    """The input validated by ``serializer_class``; invalid input raises the one
    "invalid" error, with a message per field."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for sub in detail for item in _flatten(sub)]
    if isinstance(detail, dict):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error in the one error format."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        code, message, fields = "invalid", _("The input is not valid."), _fields(exc.detail)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        message = " ".join(_flatten(exc.detail))
        fields = {}
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


class NotFoundView(APIView):
    """Any other path under /api/v1/: a 404 in the error format, whatever the method."""

    permission_classes = [AllowAny]
    schema = None  # not an operation

    def not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = options = not_found


ErrorBodySerializer = inline_serializer(
    name="ErrorBody",
    fields={
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "fields": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


class ErrorSerializer(serializers.Serializer):
    """The one error format, for the OpenAPI schema."""

    error = ErrorBodySerializer


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input"),
    401: OpenApiResponse(ErrorSerializer, description="Not signed in"),
    403: OpenApiResponse(ErrorSerializer, description="Forbidden"),
    404: OpenApiResponse(ErrorSerializer, description="Not found"),
    429: OpenApiResponse(ErrorSerializer, description="Too many requests"),
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The schema's error responses for these status codes, for ``extend_schema``."""
    return {code: ERROR_RESPONSES[code] for code in codes}


class StrictInput(serializers.Serializer):
    """An input serializer that refuses fields it does not know, so a typo is an error
    rather than a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)
