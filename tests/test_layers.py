"""Layer builders are pure: a hand-made city state in, GeoJSON and legends out, compared as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from ioc.i18n import catalogue
from ioc.web import components
from ioc.web.layer_blobs import payload
from ioc.web.queries import AirHour, AlertRow, CameraMinute, ReportRow, SourceInfo, TicketKpis, TrafficMinute
from ioc.web.snapshot import (
    Boundaries,
    CityState,
    Snapshot,
    air_states,
    alert_views,
    camera_states,
    history_states,
    traffic_states,
)
from layers import air, alerts, boundaries, cameras, reports, traffic
from layers.registry import LAYER_IDS

NOW = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)  # 14:30 in Hải Phòng
SQUARE = {
    "type": "Polygon",
    "coordinates": [[[106.6, 20.8], [106.7, 20.8], [106.7, 20.9], [106.6, 20.9], [106.6, 20.8]]],
}
SQUARE2 = {
    "type": "Polygon",
    "coordinates": [[[106.7, 20.8], [106.8, 20.8], [106.8, 20.9], [106.7, 20.9], [106.7, 20.8]]],
}
BOUNDS = Boundaries(
    "test-set",
    True,
    "commune",
    {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": SQUARE, "properties": {"code": "U1", "full_name": "Phường Một"}},
            {"type": "Feature", "geometry": SQUARE2, "properties": {"code": "U2", "full_name": "Xã Hai"}},
        ],
    },
    {"U1": "Phường Một", "U2": "Xã Hai"},
)


def src(
    sid: str, kind: str, lon: float = 106.65, lat: float = 20.85, unit: str | None = "U1", geometry=None
) -> SourceInfo:
    return SourceInfo(sid, kind, f"Tên {sid}", lon, lat, unit, geometry, {})


SOURCES = MappingProxyType(
    {
        "cam-1": src("cam-1", "camera"),
        "cam-2": src("cam-2", "camera", 106.75),
        "cam-3": src("cam-3", "camera"),
        "cam-4": src("cam-4", "camera"),
        "seg-1": src(
            "seg-1",
            "traffic",
            geometry={"type": "LineString", "coordinates": [[106.6, 20.8], [106.61, 20.81]]},
        ),
        "seg-2": src(
            "seg-2",
            "traffic",
            geometry={"type": "LineString", "coordinates": [[106.7, 20.8], [106.71, 20.81]]},
        ),
        "air-1": src("air-1", "air"),
        "air-2": src("air-2", "air", 106.75, unit="U2"),
    }
)


def state(**kw) -> CityState:  # type: ignore[no-untyped-def]
    return CityState(asof=NOW, sources=SOURCES, boundaries=BOUNDS, **kw)


def test_camera_states_classify_online_offline_incident_and_silent() -> None:
    rows = [
        CameraMinute("cam-1", NOW, True, 10, None),
        CameraMinute("cam-2", NOW, False, None, None),
        CameraMinute("cam-3", NOW, True, 5, 0.9),
    ]
    got = {c.source_id: c.status for c in camera_states(SOURCES, rows)}
    assert got == {"cam-1": "online", "cam-2": "offline", "cam-3": "incident", "cam-4": "nodata"}


def test_cameras_layer_json() -> None:
    st = state(
        cameras=camera_states(
            SOURCES,
            [CameraMinute("cam-1", NOW, True, 10, None), CameraMinute("cam-2", NOW, False, None, None)],
        )
    )
    data = cameras.build(st, "vi")
    assert data.features["features"][:2] == [
        {
            "type": "Feature",
            "id": "cam-1",
            "geometry": {"type": "Point", "coordinates": [106.65, 20.85]},
            "properties": {
                "layer": "cameras",
                "status": "online",
                "color": "#2CA02C",
                "radius": 7,
                "tooltip": "Tên cam-1: Đang hoạt động",
            },
        },
        {
            "type": "Feature",
            "id": "cam-2",
            "geometry": {"type": "Point", "coordinates": [106.75, 20.85]},
            "properties": {
                "layer": "cameras",
                "status": "offline",
                "color": "#5A5A5A",
                "radius": 7,
                "tooltip": "Tên cam-2: Mất kết nối",
            },
        },
    ]
    assert [e.label for e in cameras.build(st, "en").legend.entries] == [
        "Online",
        "Offline",
        "Incident detected",
        "No data yet",
    ]


@pytest.mark.parametrize(
    ("ratio", "band"),
    [
        (1.1, "free"),
        (0.8, "free"),
        (0.79, "slow"),
        (0.5, "slow"),
        (0.3, "congested"),
        (0.1, "jammed"),
        (0.0, "jammed"),
    ],
)
def test_traffic_band_edges(ratio: float, band: str) -> None:
    assert traffic.band(ratio)[0] == band


def test_traffic_band_rejects_negative_ratio() -> None:
    with pytest.raises(ValueError, match="-0.5"):
        traffic.band(-0.5)


def test_traffic_layer_colours_by_speed_against_free_flow() -> None:
    st = state(traffic=traffic_states([TrafficMinute("seg-1", NOW, 10.0, 50.0, 900.0, 40.0)]))
    feats = {f["id"]: f for f in traffic.build(st, "vi").features["features"]}
    assert feats["seg-1"]["properties"] == {
        "layer": "traffic",
        "status": "jammed",
        "color": "#A50F15",
        "weight": 6,
        "tooltip": "Tên seg-1: 10 km/h (20% tốc độ tự do)",
    }
    assert feats["seg-1"]["geometry"] == SOURCES["seg-1"].geometry
    assert feats["seg-2"]["properties"]["status"] == "nodata"


def _air_rows(sid: str, pm25: float, hours: int = 12) -> list[AirHour]:
    top = NOW.replace(minute=0)
    return [AirHour(sid, top - timedelta(hours=i), pm25, None) for i in range(hours)]


def test_air_layer_uses_vn_aqi_bands() -> None:
    # A steady 40 µg/m³ PM2.5: NowCast = 40; QĐ 1459 segment 25–50 µg/m³ → 50–100, so 50 + 15/25·50 = 80.
    st = state(air=air_states(_air_rows("air-1", 40.0), NOW))
    assert st.air[0].aqi == 80
    feats = {f["id"]: f["properties"] for f in air.build(st, "vi").features["features"]}
    assert feats["air-1"] == {
        "layer": "air",
        "radius": 11,
        "status": "aqi2",
        "color": "#FFFF00",
        "aqi": 80,
        "tooltip": "Tên air-1: VN_AQI 80 – Trung bình",
    }
    assert feats["air-2"]["status"] == "nodata"


def _report(tid: str, lon: float, lat: float, unit: str | None, action: str = "created") -> ReportRow:
    return ReportRow(
        tid, NOW - timedelta(hours=1), NOW - timedelta(minutes=30), action, "ngap_ung", "app", lon, lat, unit
    )


def test_reports_markers_and_heat_grid() -> None:
    st = state(
        reports=(
            _report("T1", 106.655, 20.855, "U1"),
            _report("T2", 106.656, 20.856, "U1", "updated"),
            _report("T3", 106.755, 20.855, "U2"),
        )
    )
    feats = reports.build(st, "en").features["features"]
    assert [f["properties"]["status"] for f in feats] == ["created", "updated", "created"]
    assert feats[1]["properties"]["tooltip"] == "ngap_ung – Updated (14:00:00)"
    heat = reports.build_heat(st, "vi").features["features"]
    assert sorted(f["properties"]["n"] for f in heat) == [1, 2]
    two = next(f for f in heat if f["properties"]["n"] == 2)
    assert two["geometry"]["coordinates"][0][0] == [106.65, 20.85]


def test_choropleth_counts_reports_and_worst_aqi_per_unit() -> None:
    st = state(
        reports=(
            _report("T1", 106.65, 20.85, "U1"),
            _report("T2", 106.65, 20.85, "U1"),
            _report("T3", 106.75, 20.85, "U2"),
        ),
        air=air_states(_air_rows("air-1", 40.0) + _air_rows("air-2", 160.0), NOW),
    )
    reports_layer = boundaries.build(st, "vi")
    # Geometry and outline are static; what changes with the data travels as per-unit styles.
    assert reports_layer.features["features"][0]["properties"] == {
        "layer": "boundaries",
        "code": "U1",
        "line": "#1D3557",
        "weight": 1.2,
    }
    by_code = reports_layer.styles
    assert by_code is not None
    assert (by_code["U1"]["n"], by_code["U1"]["color"]) == (2, "#C6DBEF")
    assert by_code["U1"]["tooltip"] == "Phường Một: 2 phản ánh"
    aqi = boundaries.build_aqi(st, "vi").styles
    assert aqi is not None
    assert boundaries.worst_aqi_by_unit(st) == {"U1": 80, "U2": aqi["U2"]["aqi"]}
    assert aqi["U2"]["aqi"] > 200 and aqi["U2"]["color"] == "#8F3F97"  # "Rất xấu"


def test_alerts_layer_places_alerts_and_skips_silenced() -> None:
    rows = [
        AlertRow(
            "a1",
            "severe",
            "new",
            "Ùn tắc cầu Bính",
            "Jam on Bính bridge",
            106.66,
            20.87,
            None,
            None,
            NOW,
            None,
        ),
        AlertRow(
            "a2",
            "minor",
            "acknowledged",
            "Camera mất kết nối",
            "Camera offline",
            None,
            None,
            "cam-2",
            None,
            NOW,
            NOW - timedelta(minutes=1),
        ),  # silenced until a minute ago: shown again
        AlertRow("a3", "minor", "new", "x", "x", 106.6, 20.8, None, None, NOW, NOW + timedelta(hours=1)),
    ]
    views = alert_views(rows, NOW)
    assert [(v.alert_id, v.acknowledged) for v in views] == [("a1", False), ("a2", True)]
    feats = alerts.build(state(alerts=views), "en").features["features"]
    assert [(f["id"], f["geometry"]["coordinates"], f["properties"]["tooltip"]) for f in feats] == [
        ("a1", [106.66, 20.87], "Jam on Bính bridge – Severe"),
        ("a2", [106.75, 20.85], "Camera offline – Minor"),  # placed at its camera
    ]


def test_alerts_layer_is_empty_without_alerts() -> None:
    assert alerts.build(state(), "vi").count == 0


def test_history_states_pick_the_hour_of_each_slider_step() -> None:
    live = state()
    hour = (NOW - timedelta(hours=2)).replace(minute=0)
    cams = [CameraMinute("cam-1", hour, False, 3, None)]
    hist = history_states(live, cams, [], [], [])
    assert sorted(hist) == list(range(1, 25))
    assert {c.source_id: c.status for c in hist[2].cameras}["cam-1"] == "offline"
    assert {c.source_id: c.status for c in hist[1].cameras}["cam-1"] == "nodata"


def test_payload_is_shared_per_snapshot_and_json_ready() -> None:
    snap = Snapshot(1, NOW, state(cameras=camera_states(SOURCES, [])))
    first = payload(snap, 0, "vi")
    assert payload(snap, 0, "vi") is first  # one build serves every viewer
    assert set(first) == set(LAYER_IDS)
    json.dumps({k: r.data.features for k, r in first.items()})
    other = Snapshot(2, NOW, snap.live)
    assert payload(other, 0, "vi")["cameras"].digest == first["cameras"].digest  # same content, same digest


def test_kpis_count_today_in_local_time() -> None:
    late = ReportRow(
        "T9", datetime(2026, 11, 22, 17, 30, tzinfo=UTC), NOW, "updated", None, "app", 106.6, 20.8, None
    )
    st = state(
        reports=(late, _report("T1", 106.65, 20.85, "U1")),
        cameras=camera_states(SOURCES, [CameraMinute("cam-1", NOW, True, 1, None)]),
        alerts=(AlertRow("a", "severe", "new", "t", "t", None, None, None, None, NOW, None),),
    )
    k = components.kpis(Snapshot(1, NOW, st, tickets=TicketKpis(5, 3, 2)), st)
    # 17:30 UTC on the 22nd is 00:30 on the 23rd in Hải Phòng: received "today".
    assert k.reports_received_today == 2
    assert (k.tickets_answered_today, k.tickets_overdue) == (3, 2)  # from the tickets table
    assert (k.cameras_online, k.cameras_total) == (1, 4)
    assert dict(k.alerts_by_severity)["severe"] == 1


def test_kpi_card_and_alert_item_layout() -> None:
    card = components.kpi_card("Camera hoạt động", "66/73")
    assert card.to_plotly_json()["props"]["className"] == "ioc-kpi"
    assert [c.children for c in card.children if c is not None] == ["Camera hoạt động", "66/73"]
    item = components.alert_item(
        AlertRow("a1", "extreme", "new", "Cháy", "Fire", None, None, None, None, NOW, None), "en"
    )
    assert item.id == "alert-a1" and "ioc-alert-new" in item.className
    assert item.children[1].children == "Fire" and item.children[2].children == "14:30:00"


def test_catalogues_have_the_same_keys_and_vietnamese_diacritics() -> None:
    vi, en = catalogue("vi"), catalogue("en")
    assert set(vi) == set(en)
    assert vi["app.title"] == "Trung tâm Giám sát, điều hành đô thị thông minh Hải Phòng"
    assert vi["legend.traffic.jammed"].startswith("Tắc nghẽn")
