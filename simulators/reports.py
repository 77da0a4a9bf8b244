"""Citizen reports (Hải Phòng Smart, hotline 1022, Zalo, web, e-mail) as a Poisson process.

Volume follows waking hours; places are drawn by population around the city's residential
centres; text is Vietnamese, written from templates with the area's real street names. Reporter
names and phones are fake but shaped like real ones (personal data: never logged). Some tickets
get an "updated" event later (the citizen adds a photo or a detail).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from geodata.sites import Site
from ioc.sources.feedback import FeedbackAction, FeedbackEvent
from ioc.tickets.categories import load_catalog
from simulators import profiles
from simulators.base import IncidentIndex, poisson, seeded_uuid, stream_rng
from simulators.scenario import Incident

CATEGORIES: tuple[str, ...] = tuple(load_catalog().codes)  # the triage desk's catalogue, one source of truth


@dataclass(frozen=True)
class Area:
    name: str
    lat: float
    lon: float
    sigma_m: float
    population_k: float  # thousands of residents (pre-2025 district figures, rounded)
    streets: tuple[str, ...]
    uptake: float = 1.0  # share of residents using the city's channels (lower in the former Hải Dương)


# Residential centres; weights are population × app uptake (half in the former Hải Dương, which
# joined the city's channels in July 2025). Streets of Kinh Môn and Chí Linh as named in OpenStreetMap.
AREAS: tuple[Area, ...] = (
    Area(
        "Lê Chân",
        20.8440,
        106.6780,
        900,
        230,
        (
            "Tô Hiệu",
            "Hàng Kênh",
            "Dư Hàng",
            "Lán Bè",
            "Trần Nguyên Hãn",
            "Nguyễn Văn Linh",
            "Hồ Sen",
            "Thiên Lôi",
            "Chợ Con",
        ),
    ),
    Area(
        "Ngô Quyền",
        20.8560,
        106.6960,
        900,
        180,
        (
            "Lạch Tray",
            "Lê Lợi",
            "Văn Cao",
            "Đà Nẵng",
            "Cầu Đất",
            "Lương Khánh Thiện",
            "Đông Khê",
            "Lê Thánh Tông",
        ),
    ),
    Area(
        "Hồng Bàng",
        20.8640,
        106.6700,
        900,
        120,
        (
            "Hoàng Văn Thụ",
            "Điện Biên Phủ",
            "Quang Trung",
            "Tam Bạc",
            "Hùng Vương",
            "Minh Khai",
            "Bạch Đằng",
            "Hạ Lý",
        ),
    ),
    Area(
        "Hải An",
        20.8330,
        106.7250,
        1200,
        135,
        ("Lê Hồng Phong", "Ngô Gia Tự", "Cát Bi", "Đằng Hải", "Đông Hải", "Thành Tô", "Văn Cao"),
    ),
    Area(
        "Kiến An",
        20.8080,
        106.6300,
        900,
        120,
        ("Trần Thành Ngọ", "Phan Đăng Lưu", "Trường Chinh", "Lê Duẩn", "Quán Trữ"),
    ),
    Area("Dương Kinh", 20.7900, 106.7100, 900, 60, ("Phạm Văn Đồng", "Mạc Đăng Doanh", "Hưng Đạo")),
    Area("Đồ Sơn", 20.7250, 106.7680, 700, 50, ("Lý Thánh Tông", "Vạn Sơn", "Ngọc Xuyên")),
    Area("An Dương", 20.8650, 106.6150, 1300, 200, ("Tôn Đức Thắng", "đường 208", "An Đồng", "Quán Toan")),
    Area("Thủy Nguyên", 20.9300, 106.6700, 1500, 330, ("Núi Đèo", "đường 359", "Bạch Đằng", "Lưu Kiếm")),
    Area("An Lão", 20.8200, 106.5580, 1200, 150, ("Quốc lộ 10", "Trường Sơn", "An Tràng")),
    Area("Kiến Thụy", 20.7570, 106.6650, 1200, 140, ("Núi Đối", "đường 401", "Đại Hà")),
    Area("Tiên Lãng", 20.7250, 106.5550, 1200, 150, ("Quốc lộ 37", "Tiên Cường", "Quyết Tiến")),
    Area("Vĩnh Bảo", 20.6930, 106.4800, 1200, 180, ("Quốc lộ 10", "Tân Liên", "Nhân Hòa")),
    Area("Cát Hải", 20.7270, 107.0470, 600, 32, ("Núi Ngọc", "1/4", "Hà Sen")),
    Area(
        "Hải Dương",
        20.9400,
        106.3250,
        1300,
        250,
        ("Nguyễn Lương Bằng", "Trần Hưng Đạo", "Thống Nhất", "Điện Biên Phủ"),
        uptake=0.5,
    ),
    Area("Chí Linh", 21.1050, 106.3900, 1300, 220, ("Quốc lộ 18", "Quốc lộ 37", "Nguyễn Uyên"), uptake=0.5),
    Area(
        "Kinh Môn",
        21.0000,
        106.5100,
        1300,
        200,
        ("Trần Hưng Đạo", "Lý Thường Kiệt", "Vũ Mạnh Hùng", "Minh Tân", "Hoàng Quốc Việt", "Quốc lộ 17B"),
        uptake=0.5,
    ),
)

# Share of reports by category during the day and at night (22-6 h: more noise/security complaints).
_DAY_WEIGHTS = (24, 16, 20, 18, 12, 5, 5)
_NIGHT_WEIGHTS = (10, 8, 14, 12, 16, 34, 6)

TEMPLATES: dict[str, tuple[str, ...]] = {
    "traffic": (
        "Ùn tắc kéo dài trên đường {street}, xe máy leo cả lên vỉa hè.",
        "Đèn tín hiệu giao thông ở ngã tư {street} bị hỏng, các phương tiện đi lộn xộn.",
        "Xe tải chở vật liệu chạy quá tốc độ trên đường {street}, rất nguy hiểm.",
        "Ô tô đỗ dưới lòng đường {street} gây cản trở giao thông giờ cao điểm.",
        "Xe container đi vào giờ cấm trên đường {street}.",
    ),
    "road_infra": (
        "Ổ gà lớn trên đường {street} gần số nhà {number}, người đi xe máy dễ ngã.",
        "Nắp cống bị vỡ trên vỉa hè đường {street}, đề nghị thay thế sớm.",
        "Mặt đường {street} bị lún, sụt sau khi thi công cáp ngầm.",
        "Biển báo giao thông ở đầu đường {street} bị đổ.",
    ),
    "environment": (
        "Rác thải tập kết bừa bãi ở đầu ngõ {number} đường {street}, bốc mùi hôi thối.",
        "Khói bụi từ công trình xây dựng trên đường {street} không được che chắn.",
        "Có người đốt rác gây khói mù mịt ở khu dân cư gần đường {street}.",
        "Nước thải chảy tràn ra mặt đường {street}.",
    ),
    "urban_order": (
        "Lấn chiếm vỉa hè để bán hàng trên phố {street}, người đi bộ phải xuống lòng đường.",
        "Quán ăn bày bàn ghế kín vỉa hè đường {street}.",
        "Công trình xây dựng không phép tại ngõ {number} {street}.",
        "Quảng cáo rao vặt dán đầy cột điện trên đường {street}.",
    ),
    "utilities": (
        "Đèn chiếu sáng trên đường {street} bị hỏng mấy hôm nay, buổi tối rất tối.",
        "Mất nước sinh hoạt từ sáng tại khu dân cư gần đường {street}.",
        "Đường ống nước bị vỡ, nước chảy lênh láng trên đường {street}.",
        "Dây điện bị võng thấp, nguy hiểm ở ngõ {number} {street}.",
    ),
    "public_order": (
        "Nhóm thanh niên tụ tập gây ồn ào lúc đêm khuya gần đường {street}.",
        "Hát karaoke quá giờ quy định tại khu dân cư đường {street}.",
        "Có dấu hiệu đua xe trái phép trên đường {street} vào ban đêm.",
        "Phát hiện đối tượng khả nghi trộm cắp xe máy ở ngõ {number} {street}.",
    ),
    "other": (
        "Đề nghị bổ sung cây xanh, ghế đá tại vườn hoa gần đường {street}.",
        "Cây xanh có nguy cơ gãy đổ trên đường {street}, đề nghị cắt tỉa.",
        "Chó thả rông không rọ mõm trên đường {street}.",
    ),
}

# Texts for the extra reports an incident causes, by category.
INCIDENT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "road_infra": (
        "Đường {place} ngập sâu sau mưa, nước ngập quá bánh xe máy, nhiều xe chết máy.",
        "Khu vực {place} ngập nặng, nước tràn vào nhà dân, cống thoát không kịp.",
        "Ngập úng tại {place}, đề nghị cử lực lượng hỗ trợ phân luồng.",
    ),
    "traffic": (
        "Tắc đường nghiêm trọng tại {place}, xe không nhúc nhích được.",
        "Có xe chết máy dừng giữa {place}, gây ùn tắc.",
        "Giao thông qua {place} rất chậm, đề nghị CSGT điều tiết.",
    ),
    "public_order": (
        "Đám đông tập trung rất đông ở {place}, lộn xộn, cần lực lượng giữ trật tự.",
        "Người dân tụ tập đông tại {place}, xe cộ đi lại khó khăn.",
    ),
    "environment": (
        "Không khí ở {place} mù mịt, mùi khét, khó thở.",
        "Khói bụi dày đặc quanh {place} từ sáng, đề nghị kiểm tra.",
    ),
}

_FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Ngô",
    "Dương",
    "Lý",
    "Phan",
    "Mạc",
)
_FAMILY_W = (38, 11, 9, 7, 5, 5, 3, 3, 3, 2, 2, 1, 4, 1)
_MIDDLE_M = ("Văn", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Xuân", "Tiến")
_MIDDLE_F = ("Thị", "Thu", "Ngọc", "Thanh", "Minh", "Thùy", "Hồng", "Phương")
_GIVEN_M = ("Hùng", "Dũng", "Tuấn", "Nam", "Long", "Sơn", "Hải", "Quân", "Thắng", "Cường", "Bình", "Trung")
_GIVEN_F = ("Hương", "Lan", "Hà", "Linh", "Trang", "Huyền", "Thảo", "Mai", "Hằng", "Nga", "Yến", "Hạnh")
_MOBILE_PREFIX = ("090", "093", "089", "091", "094", "088", "096", "097", "098", "086", "032", "033", "034",
                  "035", "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "082", "083",
                  "084", "085", "056", "058")  # fmt: skip


class ReportSource:
    """New and updated citizen tickets; channel sites come from ``channels.json``."""

    def __init__(self, channels: list[Site], seed: int, incidents: IncidentIndex) -> None:
        if not channels:
            raise ValueError("no feedback channels registered")
        self.channels = sorted(channels, key=lambda s: s.source_id)
        self.shares = [float(c.properties.get("share", 1.0)) for c in self.channels]
        self.rng = stream_rng(seed, "reports")
        self.incident_rng = stream_rng(seed, "reports-incidents")
        self.incidents = incidents.incidents
        self.pending: list[tuple[datetime, int, FeedbackEvent]] = []  # scheduled updates
        self._pending_seq = 0
        self.weights = [a.population_k * a.uptake for a in AREAS]

    def events(self, a: datetime, b: datetime) -> list[FeedbackEvent]:
        out: list[FeedbackEvent] = []
        rng = self.rng
        mid = a + (b - a) / 2
        n = poisson(
            rng, profiles.report_rate_per_hour(profiles.to_local(mid)) * (b - a).total_seconds() / 3600
        )
        for _ in range(n):
            t = a + timedelta(seconds=int(rng.random() * (b - a).total_seconds()))
            out.append(self._new_report(rng, t))
        for inc in self.incidents:
            if inc.reports is None:
                continue
            s = inc.severity(mid)
            k = poisson(self.incident_rng, inc.reports.per_hour * s * (b - a).total_seconds() / 3600)
            for _ in range(k):
                t = a + timedelta(seconds=int(self.incident_rng.random() * (b - a).total_seconds()))
                out.append(self._incident_report(self.incident_rng, t, inc))
        while self.pending and self.pending[0][0] < b:
            out.append(heapq.heappop(self.pending)[2])
        return out

    def _channel(self, rng: random.Random) -> Site:
        return rng.choices(self.channels, weights=self.shares)[0]

    def _new_report(self, rng: random.Random, t: datetime) -> FeedbackEvent:
        area = rng.choices(AREAS, weights=self.weights)[0]
        local = profiles.to_local(t)
        night = local.hour >= 22 or local.hour < 6
        category = rng.choices(CATEGORIES, weights=_NIGHT_WEIGHTS if night else _DAY_WEIGHTS)[0]
        text = rng.choice(TEMPLATES[category]).format(
            street=rng.choice(area.streets), number=rng.randint(2, 420)
        )
        lon, lat = _scatter(rng, area.lon, area.lat, area.sigma_m)
        return self._ticket(rng, t, category, text, lon, lat)

    def _incident_report(self, rng: random.Random, t: datetime, inc: Incident) -> FeedbackEvent:
        assert inc.reports is not None
        category = inc.reports.category
        templates = INCIDENT_TEMPLATES.get(category, TEMPLATES.get(category, TEMPLATES["other"]))
        text = rng.choice(templates).format(
            place=inc.place.name, street=inc.place.name, number=rng.randint(2, 420)
        )
        lon, lat = _scatter(
            rng, inc.place.lon, inc.place.lat, inc.reports.radius_m / 2, max_m=inc.reports.radius_m
        )
        return self._ticket(rng, t, category, text, lon, lat)

    def _ticket(
        self, rng: random.Random, t: datetime, category: str, text: str, lon: float, lat: float
    ) -> FeedbackEvent:
        channel = self._channel(rng)
        ticket_id = f"PA-{profiles.to_local(t):%y%m%d}-{rng.getrandbits(32):08X}"
        medium = str(channel.properties["channel"])
        has_name = rng.random() < {"hotline": 0.6, "email": 1.0}.get(medium, 0.9)
        has_phone = rng.random() < {"email": 0.3, "web": 0.8, "zalo": 0.6}.get(medium, 1.0)
        name, phone = _person(rng), _phone(rng)
        photos = rng.choices((0, 1, 2, 3), weights=(40, 35, 18, 7))[0] if medium in ("app", "zalo") else 0
        event = FeedbackEvent(
            event_id=seeded_uuid(rng),
            source_id=channel.source_id,
            event_time=t,
            ticket_id=ticket_id,
            action=FeedbackAction.CREATED,
            category=category,
            text=text,
            lon=round(lon, 6),
            lat=round(lat, 6),
            photo_urls=tuple(_photo(ticket_id, i) for i in range(photos)),
            channel=medium,
            reporter_name=name if has_name else None,
            reporter_phone=phone if has_phone else None,
        )
        if rng.random() < 0.08:  # the citizen comes back with a detail or a photo
            later = t + timedelta(minutes=rng.randint(10, 120))
            update = event.model_copy(
                update={
                    "event_id": seeded_uuid(rng),
                    "event_time": later,
                    "action": FeedbackAction.UPDATED,
                    "text": event.text + " Bổ sung: tình trạng vẫn chưa được khắc phục.",
                    "photo_urls": event.photo_urls + (_photo(ticket_id, photos),),
                }
            )
            self._pending_seq += 1
            heapq.heappush(self.pending, (later, self._pending_seq, update))
        return event


def _scatter(
    rng: random.Random, lon: float, lat: float, sigma_m: float, max_m: float | None = None
) -> tuple[float, float]:
    """A point around (lon, lat), normally spread, truncated at 2σ (or max_m) so it stays on land."""
    limit = max_m if max_m is not None else 2 * sigma_m
    while True:
        dx, dy = rng.gauss(0, sigma_m), rng.gauss(0, sigma_m)
        if math.hypot(dx, dy) <= limit:
            break
    return lon + dx / (111_320 * math.cos(math.radians(lat))), lat + dy / 111_320


def _person(rng: random.Random) -> str:
    family = rng.choices(_FAMILY, weights=_FAMILY_W)[0]
    if rng.random() < 0.5:
        return f"{family} {rng.choice(_MIDDLE_M)} {rng.choice(_GIVEN_M)}"
    return f"{family} {rng.choice(_MIDDLE_F)} {rng.choice(_GIVEN_F)}"


def _phone(rng: random.Random) -> str:
    digits = f"{rng.randint(0, 9_999_999):07d}"
    return f"{rng.choice(_MOBILE_PREFIX)}{digits[:1]} {digits[1:4]} {digits[4:]}"


# Simulated photos are drawn by the product (ioc.web.photos): the triage desk loads the path from its
# own server whatever host is written here.
SIM_MEDIA_BASE = "http://localhost"


def _photo(ticket_id: str, i: int) -> str:
    return f"{SIM_MEDIA_BASE}/media/sim/{ticket_id}/{i + 1}.png"
