"""Dashboards endpoints: ``dashboards/`` (CRUD, owner and visibility as funnels), ``…/<id>/data``,
``…/<id>/share-links/`` (owner or admin), ``annotations/`` (members read, admins and analysts write,
the author or an admin edits), and the one endpoint without a login, ``/api/v1/share/<token>``.

Views format; the board's answer is ``dashboards.selectors.dashboard_data``, writes are
``dashboards.services``'."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import CheckedPagination
from core.queries import DateParam
from dashboards import services
from dashboards.api import serializers as s
from dashboards.models import Annotation, Dashboard, ShareLink
from dashboards.selectors import dashboard_data, overlapping
from tenancy.api.views import SavedConfigViewSet
from tenancy.scoping import WorkspaceScopedMixin

FORBIDDEN = {403: OpenApiResponse(description="Only the board's owner or a workspace admin.")}


def share_link_json(link: ShareLink, token: str | None = None) -> dict[str, Any]:
    data = dict(s.ShareLinkSerializer(link).data)
    if token is not None:  # shown once: only a digest is kept
        data = {"id": link.pk, "token": token, "url": f"/share/{token}/", **data}
    return data


@extend_schema_view(
    list=extend_schema(summary="Boards you can see: yours and those shared with the workspace"),
    create=extend_schema(summary="Save a board (admins and analysts)"),
    partial_update=extend_schema(summary="Change some fields of a board; tiles given replace them"),
)
@extend_schema(tags=["dashboards"])
class DashboardViewSet(SavedConfigViewSet):
    model = Dashboard
    serializer_class = s.DashboardSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().prefetch_related("tiles")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "scope": getattr(self, "scope", None)}

    @extend_schema(
        summary="Each tile's answer under the board's period and filters, and the annotations",
        responses={200: s.BoardDataSerializer},
    )
    @action(detail=True, methods=["get"])
    def data(self, request: Request, slug: str, pk: str) -> Response:
        return Response(dashboard_data(self.get_object(), request.user))

    def _shareable(self) -> Dashboard:
        dashboard: Dashboard = self.get_object()
        if not self.scope.can_edit_saved(dashboard):
            raise exceptions.PermissionDenied("Only the board's owner or a workspace admin manages its share links.")
        return dashboard

    @extend_schema(
        methods=["POST"],
        request=s.ShareLinkSerializer,
        summary="A read-only link to the board, expiring (owner or admin); the token is shown once",
        responses={201: OpenApiResponse(description='{"id", "token", "url", "expires_at", "revoked_at"}'), **FORBIDDEN},
    )
    @extend_schema(
        methods=["GET"],
        summary="The board's share links (owner or admin)",
        responses={200: s.ShareLinkSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], url_path="share-links")
    def share_links(self, request: Request, slug: str, pk: str) -> Response:
        dashboard = self._shareable()
        if request.method == "GET":
            return Response([share_link_json(link) for link in dashboard.share_links.all()])
        serializer = s.ShareLinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link, token = services.share_link_create(
            dashboard=dashboard, actor=request.user, expires_at=serializer.validated_data["expires_at"]
        )
        return Response(share_link_json(link, token), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Revoke a share link (owner or admin)", responses={204: None, **FORBIDDEN})
    @action(detail=True, methods=["delete"], url_path=r"share-links/(?P<link_id>[0-9]+)")
    def share_link(self, request: Request, slug: str, pk: str, link_id: str) -> Response:
        dashboard = self._shareable()
        link = dashboard.share_links.filter(pk=link_id).first()
        if link is None:
            raise Http404("No such share link on this board.")
        services.share_link_revoke(link=link, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnnotationPagination(CheckedPagination):
    """A chart asks for every note over its axis in one page (at most 500)."""

    page_size_query_param = "page_size"
    max_page_size = 500


class AnnotationListParams(serializers.Serializer):
    start = DateParam(help_text="Only those overlapping [start, end].")
    end = DateParam()
    dashboard = serializers.IntegerField(required=False, help_text="Only this board's own.")


class CanEditAnnotation(permissions.BasePermission):
    """Members read; the author or a workspace admin changes or deletes."""

    def has_object_permission(self, request: Request, view: Any, obj: Annotation) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(view.scope.is_admin or (obj.author_id is not None and obj.author_id == request.user.pk))


@extend_schema(tags=["annotations"])
@extend_schema_view(list=extend_schema(parameters=[AnnotationListParams]))
class AnnotationViewSet(WorkspaceScopedMixin, viewsets.ModelViewSet):
    """A workspace's notes on dates: the whole workspace's and those of the boards the user can see."""

    serializer_class = s.AnnotationSerializer
    pagination_class = AnnotationPagination
    permission_classes = [permissions.IsAuthenticated, CanEditAnnotation]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Annotation]:
        if getattr(self, "swagger_fake_view", False):
            return Annotation.objects.none()
        seen = Q(dashboard__isnull=True) | Q(dashboard__in=self.scope.saved(Dashboard))
        rows = self.scope.rows(Annotation).filter(seen).select_related("author").order_by("date", "id")
        if self.action != "list":
            return rows
        params = AnnotationListParams(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        start, end = params.validated_data.get("start"), params.validated_data.get("end")
        if bool(start) != bool(end):
            raise exceptions.ValidationError({"end" if start else "start": ["Give both start and end, or neither."]})
        if start and end:
            rows = overlapping(rows, start, end)
        if "dashboard" in params.validated_data:
            rows = rows.filter(dashboard_id=params.validated_data["dashboard"])
        return rows

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "scope": getattr(self, "scope", None)}

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        if not self.scope.can_create_saved:
            raise exceptions.PermissionDenied("Only workspace admins and analysts write annotations.")
        serializer.save(workspace=self.workspace, author=self.request.user)


@extend_schema(
    tags=["dashboards"],
    summary="A shared board, without a login: its data and its name",
    responses={
        200: s.SharedBoardSerializer,
        404: OpenApiResponse(description="Unknown or revoked."),
        410: OpenApiResponse(description="Expired."),
    },
    parameters=[OpenApiParameter("token", str, OpenApiParameter.PATH)],
)
class SharedDashboardView(APIView):
    """The board behind a live share link, computed as its owner; nothing else of the workspace."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]

    def get(self, request: Request, token: str) -> Response:
        try:
            link = services.share_link_open(token)
        except ShareLink.DoesNotExist:
            raise exceptions.NotFound() from None
        except services.ShareLinkGone:
            return Response({"detail": "This link has expired."}, status=status.HTTP_410_GONE)
        board = link.dashboard
        data = dashboard_data(board, board.owner)
        return Response({"dashboard": {"name": board.name, "description": board.description}, **data})
