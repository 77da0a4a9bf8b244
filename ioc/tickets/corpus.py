"""A seeded, labelled corpus of Vietnamese citizen reports, written by the project.

Each report is composed from an opener, one core complaint (the label), optional details, an
optional aside about another topic (mixed reports keep the label of their main complaint) and a
closing plea, placed on real Hải Phòng streets, places and wards. Noise then varies the surface:
accents dropped, teencode (``k``, ``ko``, ``đc``, ``ng``...), typos, stray case and punctuation.

Every core complaint has a ``phrase_id`` so an evaluation can hold out whole phrasings (a harder,
more honest split than random rows). The same ``(n, seed)`` always gives the same reports.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from ioc.tickets.text import fold

CORPUS_VERSION = "2026.11-1"
DEFAULT_SIZE = 4000
DEFAULT_SEED = 20260701


@dataclass(frozen=True, slots=True)
class LabelledReport:
    """One report text with its category code and how it was made."""

    text: str
    category: str
    phrase_id: str = ""
    ward: str = ""
    accents: bool = True
    teencode: bool = False
    typos: bool = False

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError(f"report text must not be empty (category {self.category!r})")
        if not self.category:
            raise ValueError(f"report {self.text[:40]!r} has no category")


STREETS = (
    "Lạch Tray", "Lê Hồng Phong", "Văn Cao", "Trần Nguyên Hãn", "Điện Biên Phủ", "Tô Hiệu",
    "Nguyễn Văn Linh", "Hoàng Văn Thụ", "Cầu Đất", "Lê Thánh Tông", "Đà Nẵng", "Bạch Đằng", "Hạ Lý",
    "Quang Trung", "Minh Khai", "Trần Phú", "Lê Lợi", "Phạm Văn Đồng", "Trường Chinh", "Ngô Quyền",
    "Lê Lai", "Chùa Vẽ", "Nguyễn Trãi", "Hai Bà Trưng", "Tôn Đức Thắng", "Lương Khánh Thiện",
    "Trần Hưng Đạo", "Hùng Vương", "Nguyễn Bỉnh Khiêm", "Lý Thường Kiệt", "Thiên Lôi", "Võ Nguyên Giáp",
    "Cát Bi", "Đông Khê", "Phan Bội Châu", "Mê Linh", "Hoàng Quốc Việt", "Lê Duẩn", "Trần Thành Ngọ",
    "Nguyễn Đức Cảnh", "Tô Vũ", "Ngô Gia Tự", "Đình Vũ", "Máy Tơ", "Lê Chân", "Chợ Hàng",
)  # fmt: skip
PLACES = (
    "chợ Sắt", "chợ Cát Bi", "chợ An Dương", "chợ Hàng", "chợ Đổ", "cầu Rào", "cầu Niệm", "cầu Bính",
    "cầu Lạc Long", "ngã năm sân bay Cát Bi", "ngã tư Thành Đội", "vòng xuyến Lạch Tray", "bến xe Cầu Rào",
    "bến xe Niệm Nghĩa", "Nhà hát lớn", "công viên An Biên", "hồ Tam Bạc", "ga Hải Phòng",
    "bãi biển Đồ Sơn", "sân vận động Lạch Tray", "Bệnh viện Việt Tiệp", "trường THPT Trần Phú",
    "cảng Chùa Vẽ", "khu công nghiệp Đình Vũ", "ngã ba Kiến An", "khu tập thể Đổng Quốc Bình",
)  # fmt: skip
WARDS = (
    "phường An Biên", "phường An Dương", "phường An Hải", "phường An Phong", "phường Bạch Đằng",
    "phường Dương Kinh", "phường Gia Viên", "phường Hòa Bình", "phường Hưng Đạo", "phường Hải An",
    "phường Hồng An", "phường Hồng Bàng", "phường Kiến An", "phường Lê Chân", "phường Lê Ích Mộc",
    "phường Lưu Kiếm", "phường Nam Triệu", "phường Nam Đồ Sơn", "phường Ngô Quyền", "phường Phù Liễn",
    "phường Thiên Hương", "phường Thủy Nguyên", "phường Đông Hải", "phường Đồ Sơn", "xã An Lão",
    "xã Tiên Lãng", "xã Vĩnh Bảo", "xã Kiến Thụy", "xã Nguyễn Bỉnh Khiêm", "đặc khu Cát Hải",
)  # fmt: skip

# Core complaints per category: the sentence that decides the label. {loc} and {time} are slots.
CORE: dict[str, tuple[str, ...]] = {
    "traffic": (
        "{loc} ùn tắc kéo dài {time}, xe máy ô tô không nhúc nhích được",
        "giờ tan tầm {loc} kẹt xe nghiêm trọng, đi 1km mất nửa tiếng",
        "vừa xảy ra tai nạn giữa xe máy và ô tô tại {loc}, có người bị thương",
        "xe container chạy vào {loc} trong giờ cấm, gây ách tắc",
        "rất nhiều xe máy đi ngược chiều ở {loc}, cực kỳ nguy hiểm",
        "đèn tín hiệu giao thông ở {loc} bị chập chờn {time}, các hướng tranh nhau đi",
        "đèn xanh đèn đỏ tại {loc} không hoạt động, không có ai điều tiết",
        "xe tải chở quá tải chạy liên tục qua {loc}",
        "nhiều người vượt đèn đỏ ở {loc}, đề nghị lắp camera phạt nguội",
        "ô tô đỗ dàn hàng hai bên {loc} khiến đường chỉ còn một làn, xe không đi được",
        "cách phân luồng mới ở {loc} làm các xe phải đi vòng rất xa, ùn ứ cả buổi sáng",
        "xe buýt dừng đỗ không đúng điểm ở {loc} gây cản trở giao thông",
        "học sinh tan trường dừng xe giữa lòng đường {loc}, gây va chạm liên tục",
        "taxi và xe ôm công nghệ đón trả khách tràn ra lòng đường tại {loc}",
        "xe khách chạy lòng vòng đón khách dọc {loc}, tắc đường",
        "va chạm giao thông ở {loc}, hai xe còn nằm giữa đường chưa ai giải quyết",
        "thời gian đèn đỏ ở {loc} quá dài, xe xếp hàng dài cả cây số",
        "đề nghị bố trí cảnh sát giao thông phân luồng tại {loc} giờ cao điểm",
        "xe đầu kéo quay đầu ở {loc} chắn hết các làn đường",
        "ô tô đi vào làn xe máy ở {loc}, rất dễ gây tai nạn",
        "thiếu biển chỉ dẫn nên xe đi nhầm làn, ùn tắc tại {loc}",
        "sáng nào {loc} cũng tắc cứng, đề nghị mở rộng nút giao",
        "xe máy leo lên vỉa hè để né tắc đường ở {loc}",
        "tai nạn liên hoàn ở {loc}, ba xe đâm nhau",
        "xe ben chạy tốc độ cao qua khu dân cư {loc}",
    ),
    "road_infra": (
        "mặt đường {loc} xuất hiện nhiều ổ gà, ổ voi rất nguy hiểm",
        "đường {loc} bị sụt lún thành hố sâu, xe máy sập bánh",
        "nắp hố ga ở {loc} bị vỡ, mất nắp, nguy cơ sụt chân",
        "mặt đường {loc} nứt toác, bong tróc lớp nhựa",
        "biển báo giao thông ở {loc} bị đổ nghiêng, che khuất tầm nhìn",
        "mỗi khi mưa to {loc} lại ngập sâu nửa mét do cống thoát nước bị tắc",
        "cống thoát nước ở {loc} tắc nghẽn, nước không rút được",
        "vạch sơn kẻ đường ở {loc} mờ hết, không nhìn thấy làn",
        "dải phân cách ở {loc} bị xe đâm gãy, chưa được sửa",
        "lan can cầu ở {loc} bị gãy một đoạn, rất nguy hiểm",
        "gờ giảm tốc tự phát ở {loc} quá cao, nhiều người ngã xe",
        "vỉa hè {loc} bị vỡ gạch, lồi lõm, người đi bộ vấp ngã",
        "sau khi đào đường lắp cống, {loc} không được hoàn trả mặt đường, toàn đá dăm",
        "mặt cầu {loc} bị bong khe co giãn, xe đi qua rung mạnh",
        "đường {loc} ngập úng sau cơn mưa, nước tràn vào nhà dân",
        "hố ga trên {loc} bị lún thấp hơn mặt đường, xe đi qua bị xóc",
        "rãnh thoát nước dọc {loc} bị sập thành, đất đá lấp kín",
        "đường {loc} xuống cấp nghiêm trọng, toàn ổ gà sau mùa mưa",
        "tấm bê tông che cống ở {loc} bị kênh lên, dễ gây tai nạn",
        "biển chỉ đường ở {loc} bị mất, chỉ còn trơ cột",
        "taluy đường ở {loc} bị sạt lở, đất tràn xuống lòng đường",
        "cây cầu nhỏ ở {loc} bị nứt trụ, xe tải vẫn đi qua",
        "đoạn đường {loc} mới làm xong đã bong tróc, lồi lõm",
        "đường gom {loc} lầy lội, toàn bùn đất sau mưa",
        "hàng rào chắn công trình đào đường ở {loc} để đó cả tháng, không thi công",
    ),
    "environment": (
        "rác thải tập kết ở {loc} {time} không được thu gom, bốc mùi hôi thối",
        "có người đổ trộm phế thải xây dựng ra {loc} vào ban đêm",
        "khu vực {loc} có người đốt rác, khói bay mù mịt vào nhà dân",
        "nước thải màu đen từ cơ sở sản xuất chảy thẳng ra cống ở {loc}",
        "hồ nước gần {loc} bốc mùi hôi, cá chết nổi trắng mặt hồ",
        "xe chở vật liệu không che chắn làm rơi vãi đất cát, bụi mù {loc}",
        "xưởng sản xuất ở {loc} thải khói đen và mùi khét suốt ngày đêm",
        "cây xanh ở {loc} bị gãy cành, có nguy cơ đổ vào người đi đường",
        "cây to ở {loc} bị đổ sau giông, chưa ai dọn",
        "công trường ở {loc} thi công ồn ào cả đêm, không ai ngủ được",
        "xác động vật chết vứt ở {loc}, ruồi nhặng bu đầy",
        "bãi rác tự phát ở {loc} ngày càng lớn, ô nhiễm nghiêm trọng",
        "mương nước ở {loc} đầy rác và bèo, nước đen kịt bốc mùi",
        "trạm trộn bê tông gần {loc} gây bụi và tiếng ồn lớn",
        "người dân vứt rác bừa bãi dọc {loc}, thùng rác công cộng đầy tràn",
        "xe thu gom rác để nước rỉ rác chảy lênh láng trên {loc}",
        "không khí ở {loc} {time} có mùi hóa chất rất khó chịu",
        "cơ sở chăn nuôi lợn trong khu dân cư {loc} gây mùi hôi nồng nặc",
        "cây xanh trên {loc} bị chặt hạ trái phép",
        "bụi than từ bãi tập kết ở {loc} bay vào nhà, phơi quần áo đen hết",
        "khói bụi từ lò gạch ở {loc} làm cả xóm khó thở",
        "sông gần {loc} nổi váng dầu, cá chết hàng loạt",
        "rác sinh hoạt ùn ứ ở {loc}, xe rác mấy ngày không đến",
        "cơ sở tái chế nhựa ở {loc} xả khói độc ban đêm",
    ),
    "urban_order": (
        "hàng quán lấn chiếm hết vỉa hè {loc}, người đi bộ phải xuống lòng đường",
        "có công trình xây dựng không phép tại {loc}",
        "nhà dân ở {loc} xây lấn ra hành lang đường, cơi nới trái phép",
        "quảng cáo rao vặt dán bậy kín tường và cột điện ở {loc}",
        "chợ cóc họp tràn ra lòng đường {loc} từ sáng sớm",
        "bãi trông giữ xe tự phát chiếm hết vỉa hè {loc}, thu tiền cao",
        "vật liệu xây dựng tập kết trên vỉa hè {loc} nhiều ngày không dọn",
        "hàng rong bày bán dọc {loc}, cản trở lối đi",
        "biển quảng cáo lớn dựng sai phép trên nóc nhà ở {loc}",
        "dựng rạp đám cưới chiếm toàn bộ lòng đường {loc}",
        "quán nhậu kê bàn ghế tràn ra vỉa hè và lòng đường {loc}",
        "gara sửa xe ô tô chiếm dụng vỉa hè {loc} để rửa xe, sửa xe",
        "ki ốt tạm dựng trái phép trên đất công ở {loc}",
        "các hộ kinh doanh ở {loc} làm mái che, mái vẩy vươn ra quá quy định",
        "nhà hàng ở {loc} để xe khách kín vỉa hè, không còn lối đi",
        "công trình ở {loc} xây vượt số tầng được cấp phép",
        "người dân tự ý rào chắn lối đi chung ở {loc} để làm chỗ để xe riêng",
        "xe bán hàng lưu động đỗ cố định trên vỉa hè {loc} cả ngày",
        "băng rôn quảng cáo treo tràn lan, rách nát ở {loc}",
        "các cửa hàng ở {loc} bày hàng hóa ra tận mép đường",
        "các quầy hàng tạm lấn ra lòng đường {loc} ngày càng nhiều",
        "nhà dân ở {loc} đổ bê tông làm dốc dắt xe lấn ra lòng đường",
        "công trình nhà ở {loc} xây sai giấy phép, lấn sang đất hàng xóm",
        "cửa hàng ở {loc} treo biển hiệu che kín mặt tiền, lấn ra vỉa hè",
    ),
    "utilities": (
        "đèn đường ở {loc} bị hỏng {time}, buổi tối tối om rất nguy hiểm",
        "cả dãy đèn chiếu sáng trên {loc} không sáng",
        "đèn đường ở {loc} bật sáng cả ban ngày, rất lãng phí",
        "khu vực {loc} bị mất điện {time} mà không có thông báo",
        "dây điện ở {loc} bị võng thấp sát đầu người, xe cao đi qua dễ vướng",
        "dây điện bị đứt rơi xuống {loc}, có tia lửa điện",
        "cột điện ở {loc} bị nghiêng, có nguy cơ đổ",
        "khu dân cư {loc} bị mất nước sinh hoạt {time}",
        "nước máy ở {loc} có màu vàng đục và mùi lạ",
        "đường ống nước ở {loc} bị vỡ, nước phun lên mặt đường",
        "tủ điện công cộng ở {loc} bị mở cửa, dây điện hở ra ngoài",
        "áp lực nước ở {loc} rất yếu, tầng 2 không có nước",
        "điện chập chờn liên tục ở {loc}, hỏng cả đồ điện trong nhà",
        "đèn chiếu sáng công viên ở {loc} hỏng gần hết",
        "dây cáp viễn thông chằng chịt, rủ xuống thấp ở {loc}",
        "trạm biến áp ở {loc} kêu to và bốc mùi khét",
        "nước rò rỉ từ đồng hồ nước ở {loc} lâu ngày không ai sửa",
        "bóng đèn cao áp ở {loc} chập chờn lúc sáng lúc tắt",
        "cột đèn chiếu sáng ở {loc} bị xe đâm đổ, dây điện lòi ra",
        "mất điện diện rộng ở {loc}, đề nghị điện lực kiểm tra",
        "cả khu {loc} mất điện giữa trưa nắng, không có lịch cắt điện",
        "bóng đèn đường ở {loc} cháy từ lâu chưa được thay",
        "nước sinh hoạt ở {loc} có cặn bẩn, không dám dùng",
        "dây điện chạm vào cây xanh ở {loc}, phát ra tiếng nổ lách tách",
    ),
    "public_order": (
        "nhóm thanh niên tụ tập đánh nhau ở {loc} {time}",
        "có đối tượng cướp giật túi xách của người đi đường tại {loc}",
        "xảy ra trộm cắp xe máy liên tục ở {loc}",
        "quán karaoke ở {loc} hát to đến 2 giờ sáng, ảnh hưởng người dân",
        "nhóm thanh niên đua xe, lạng lách, nẹt pô ở {loc} vào ban đêm",
        "có người tiêm chích ma túy ở {loc}, vứt kim tiêm bừa bãi",
        "có tụ điểm cờ bạc trong nhà dân ở {loc}",
        "người say rượu gây rối, chửi bới đập phá ở {loc}",
        "có dấu hiệu cho vay nặng lãi, đòi nợ thuê tạt sơn nhà dân ở {loc}",
        "nhóm đối tượng mang hung khí đi lại ở {loc}, người dân rất lo sợ",
        "có kẻ trộm đột nhập nhà dân ở {loc} lấy tài sản",
        "bảo kê thu tiền các hộ buôn bán ở {loc}",
        "đối tượng lạ mặt thường xuyên rình rập trước cổng trường ở {loc}",
        "người dân bị lừa đảo qua điện thoại, đối tượng xưng là công an",
        "thanh niên tụ tập hút bóng cười ở {loc} đến khuya",
        "xô xát giữa hai nhóm người ở {loc}, có người bị thương",
        "hàng xóm ở {loc} mở nhạc quá to, cãi chửi nhau hằng đêm",
        "trộm cắp dây điện và nắp cống ở {loc} liên tục",
        "có người ăn xin giả dạng đeo bám, chèo kéo du khách ở {loc}",
        "nghi có cơ sở mại dâm trá hình tại {loc}",
        "nhóm người lạ mặt dùng gậy gộc đe dọa người dân ở {loc}",
        "xe máy để trước cửa nhà ở {loc} bị mất trộm giữa ban ngày",
        "có đối tượng trộm chó ở {loc} vào rạng sáng",
        "ồn ào tụ tập nhậu nhẹt, gây gổ đánh nhau đến nửa đêm ở {loc}",
    ),
    "other": (
        "cho em hỏi thủ tục cấp lại căn cước thì nộp hồ sơ ở đâu",
        "hồ sơ cấp giấy chứng nhận quyền sử dụng đất của tôi nộp đã lâu mà chưa có kết quả",
        "ứng dụng Hải Phòng Smart bị lỗi, không gửi được phản ánh",
        "xin hỏi lịch tiêm chủng cho trẻ ở trạm y tế {ward}",
        "phản ánh trước của tôi đã quá hạn mà chưa được trả lời",
        "tôi muốn khen ngợi cán bộ {ward} đã giải quyết nhanh hồ sơ",
        "đề nghị mở thêm tuyến xe buýt đến {loc}",
        "xin hỏi thủ tục đăng ký kinh doanh hộ cá thể",
        "làm thế nào để đăng ký khai sinh trực tuyến cho con",
        "giá trông xe ở bệnh viện quá cao so với quy định, xin hỏi mức giá đúng",
        "đề nghị thành phố xây thêm sân chơi cho trẻ em ở {ward}",
        "tôi chưa nhận được tiền hỗ trợ theo chính sách dù đã nộp hồ sơ",
        "xin hỏi khi nào có kết quả tuyển sinh lớp 10",
        "cổng dịch vụ công trực tuyến không đăng nhập được",
        "góp ý về thái độ phục vụ của nhân viên bộ phận một cửa {ward}",
        "hỏi về chế độ bảo hiểm y tế cho người cao tuổi",
        "đề nghị niêm yết công khai lịch tiếp công dân của {ward}",
        "xin hỏi thủ tục chuyển trường cho học sinh",
        "cảm ơn các cơ quan đã xử lý phản ánh rất nhanh",
        "tôi muốn hỏi quy hoạch khu đất ở {loc}",
        "xin hỏi hạn nộp thuế đất năm nay của {ward}",
        "tôi muốn đăng ký tham gia hiến máu tình nguyện thì liên hệ ở đâu",
        "đề nghị công khai kết quả giải quyết phản ánh trên ứng dụng",
        "xin hỏi thủ tục xin giấy phép xây dựng nhà ở riêng lẻ",
    ),
}

# Extra sentences that keep the topic (added after the core complaint).
DETAILS: dict[str, tuple[str, ...]] = {
    "traffic": ("Xe cộ chen lấn nhau.", "Sáng nào cũng như vậy.", "Còi xe inh ỏi.", "Có người suýt bị tông."),
    "road_infra": ("Đã có người ngã xe.", "Trời tối không nhìn thấy.", "Xe qua lại rất khó khăn.", "Đã lâu chưa được sửa chữa."),
    "environment": ("Mùi hôi không chịu được.", "Ảnh hưởng sức khỏe người dân.", "Trẻ con ho suốt.", "Ruồi muỗi rất nhiều."),
    "urban_order": ("Mất mỹ quan đô thị.", "Phường đã nhắc nhưng đâu lại vào đấy.", "Người đi bộ không có chỗ đi.", "Tình trạng diễn ra nhiều tháng nay."),
    "utilities": ("Người dân sinh hoạt rất khó khăn.", "Đã gọi tổng đài nhưng chưa ai đến.", "Trẻ em đi học về rất sợ.", "Nguy cơ điện giật."),
    "public_order": ("Người dân không dám ra đường buổi tối.", "Đề nghị công an vào cuộc.", "Mất an ninh trật tự.", "Tình trạng kéo dài nhiều đêm."),
    "other": ("Mong được hướng dẫn.", "Tôi đã gọi điện nhưng không ai nghe máy.", "Rất mong nhận được phản hồi.", "Xin cảm ơn."),
}  # fmt: skip

# Short asides about another topic: make "mixed" reports whose label stays the main complaint.
ASIDES: dict[str, tuple[str, ...]] = {
    "traffic": ("Chỗ này giờ cao điểm cũng hay tắc.", "Xe cộ lại đi rất ẩu."),
    "road_infra": ("Mặt đường gần đó cũng có ổ gà.", "Hôm mưa còn bị ngập."),
    "environment": ("Bên cạnh còn có đống rác.", "Bụi bặm cả ngày."),
    "urban_order": ("Vỉa hè thì bị lấn chiếm hết.", "Hàng quán bày ra tận đường."),
    "utilities": ("Buổi tối đèn đường lại không sáng.", "Hay bị mất điện nữa."),
    "public_order": ("Đêm đến còn có thanh niên tụ tập.", "Khu này hay mất trộm."),
    "other": ("Tiện thể cho hỏi thủ tục làm căn cước.", "App gửi phản ánh hơi chậm."),
}

OPENERS = (
    "", "", "", "Kính gửi UBND {ward}.", "Xin chào,", "Cho em hỏi,", "Tôi là người dân {ward}.",
    "Phản ánh:", "Báo cáo cơ quan chức năng:", "Mọi người ơi,", "Kính gửi các cơ quan chức năng,",
    "Em xin phản ánh", "Người dân tổ dân phố {n} {ward} phản ánh:",
)  # fmt: skip
PLEAS = (
    "", "", "Đề nghị cơ quan chức năng xử lý sớm.", "Mong được giải quyết.", "Rất nguy hiểm!",
    "Đã phản ánh nhiều lần nhưng chưa ai xử lý.", "Xin cảm ơn.", "Đề nghị kiểm tra gấp!!!",
    "Người dân rất bức xúc.", "Mong các anh chị xuống xem giúp.", "Đề nghị xử lý dứt điểm.",
)  # fmt: skip
TIMES = (
    "từ sáng nay", "mấy hôm nay", "tối qua", "đã hơn 1 tuần", "từ chiều qua", "suốt cả tuần",
    "từ 5h sáng", "hôm nay", "đêm qua", "gần 1 tháng nay",
)  # fmt: skip
LOCATIONS = (
    "đường {street}", "đường {street}", "ngõ {n} {street}", "trước số nhà {n} {street}",
    "khu vực {place}", "đoạn {street} gần {place}", "tổ dân phố {k} {ward}", "{place}",
    "ngã tư {street} – {street2}", "gần {place}",
)  # fmt: skip

# Teencode the corpus writes (the reverse of ioc.tickets.text.TEENCODE), with alternatives.
_TEEN_OUT: dict[str, tuple[str, ...]] = {
    "không": ("k", "ko", "hok", "kh", "kg"),
    "được": ("đc", "dc", "dk"),
    "người": ("ng",),
    "quá": ("wa", "qá"),
    "rồi": ("r",),
    "với": ("vs",),
    "đường": ("đg", "đường"),
    "phường": ("p.", "P"),
    "mọi người": ("mn", "mng"),
    "gì": ("j",),
    "cũng": ("cx", "cg"),
    "bao giờ": ("bh",),
    "trước": ("trc",),
    "thành phố": ("tp", "TP"),
    "điện thoại": ("đt",),
    "giờ": ("h",),
}
_DOUBLE_ROAD = re.compile(r"(?<!\w)đường đường(?!\w)")
_TONE_MARKS = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")


# Everyday paraphrases: each core phrase is reworded word by word, so phrasings vary.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "rất": ("rất", "cực kỳ", "quá", "vô cùng"),
    "nguy hiểm": ("nguy hiểm", "mất an toàn", "nguy hiểm chết người"),
    "bị hỏng": ("bị hỏng", "bị hư", "hư hỏng", "hỏng"),
    "người dân": ("người dân", "bà con", "dân", "cư dân"),
    "người đi đường": ("người đi đường", "người tham gia giao thông", "người qua lại"),
    "xe máy": ("xe máy", "xe gắn máy", "xe máy"),
    "ô tô": ("ô tô", "xe hơi", "ô tô con"),
    "ban đêm": ("ban đêm", "buổi tối", "đêm khuya"),
    "nhiều": ("nhiều", "hàng loạt", "vô số"),
    "không": ("không", "chẳng"),
    "chưa": ("chưa", "vẫn chưa"),
    "liên tục": ("liên tục", "thường xuyên", "suốt"),
    "nghiêm trọng": ("nghiêm trọng", "trầm trọng", "kinh khủng"),
    "bốc mùi": ("bốc mùi", "bốc mùi hôi", "hôi thối"),
    "ồn ào": ("ồn ào", "ầm ĩ", "inh ỏi"),
    "đề nghị": ("đề nghị", "kiến nghị", "mong", "yêu cầu"),
    "trái phép": ("trái phép", "sai phép", "không phép"),
}
_SYNONYM = re.compile(
    "|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in sorted(SYNONYMS, key=len, reverse=True))
)


def _paraphrase(text: str, rng: random.Random) -> str:
    """Reword with everyday synonyms, then sometimes keep only the first clause (a terse report)."""
    text = _SYNONYM.sub(
        lambda m: rng.choice(SYNONYMS[m.group(0)]) if rng.random() < 0.6 else m.group(0), text
    )
    head, sep, _ = text.partition(", ")
    if sep and len(head.split()) >= 4 and rng.random() < 0.2:
        return head
    return text


def _teencode(text: str, rng: random.Random) -> str:
    for word, subs in _TEEN_OUT.items():
        if word in text and rng.random() < 0.7:
            # Whole words only: "quá" must not eat the start of "quán".
            text = re.sub(rf"(?<!\w){word}(?!\w)", lambda _, subs=subs: rng.choice(subs), text)
    return text


def _typo(text: str, rng: random.Random) -> str:
    """One keyboard slip: a dropped, swapped or doubled letter, or a wrong tone mark."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:-1])
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1 and text[i + 1 : i + 2].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    base = unicodedata.normalize("NFD", text[i])
    if len(base) > 1 and base[-1] in _TONE_MARKS:
        wrong = unicodedata.normalize("NFC", base[:-1] + rng.choice(_TONE_MARKS))
        return text[:i] + wrong + text[i + 1 :]
    return text[:i] + text[i + 1 :]


def _fill(template: str, rng: random.Random, ward: str) -> str:
    street, street2 = rng.sample(STREETS, 2)
    loc = rng.choice(LOCATIONS).format(
        street=street,
        street2=street2,
        place=rng.choice(PLACES),
        n=rng.randint(2, 420),
        k=rng.randint(1, 25),
        ward=ward,
    )
    text = template.format(loc=loc, time=rng.choice(TIMES), ward=ward, n=rng.randint(1, 25))
    return _DOUBLE_ROAD.sub("đường", text)  # "mặt đường {loc}" with loc "đường Văn Cao"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def make_report(category: str, rng: random.Random) -> LabelledReport:
    """One labelled report of ``category`` drawn from ``rng``."""
    if category not in CORE:
        raise KeyError(f"no corpus templates for category {category!r}; known: {', '.join(CORE)}")
    ward = rng.choice(WARDS)
    index = rng.randrange(len(CORE[category]))
    opener = _fill(rng.choice(OPENERS), rng, ward)
    core = _fill(_paraphrase(CORE[category][index], rng), rng, ward)
    parts = [opener, (core if opener.endswith(",") else _sentence(core)) + "."]
    if rng.random() < 0.4:
        parts.append(rng.choice(DETAILS[category]))
    if rng.random() < 0.15:
        other = rng.choice([c for c in ASIDES if c != category])
        parts.append(rng.choice(ASIDES[other]))
    parts.append(rng.choice(PLEAS))
    text = " ".join(p for p in parts if p)

    teencode = rng.random() < 0.3
    if teencode:
        text = _teencode(text, rng)
    typos = rng.random() < 0.2
    if typos:
        for _ in range(rng.randint(1, 2)):
            text = _typo(text, rng)
    accents = rng.random() >= 0.35
    if not accents:
        text = fold(text)
    style = rng.random()
    if style < 0.15:
        text = text.lower()
    elif style < 0.18:
        text = text.upper()
    if rng.random() < 0.1:
        text = text.rstrip(".!") + rng.choice(("!!!", "...", " ??", " ạ"))
    return LabelledReport(
        text=text,
        category=category,
        phrase_id=f"{category}:{index:02d}",
        ward=ward,
        accents=accents,
        teencode=teencode,
        typos=typos,
    )


def generate(
    n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED, *, progress: bool = False
) -> list[LabelledReport]:
    """``n`` reports, classes balanced (round robin), deterministic for a given ``seed``."""
    if not isinstance(n, int) or n < len(CORE):
        raise ValueError(f"n must be an integer of at least {len(CORE)} (one per category), got {n!r}")
    rng = random.Random(seed)
    codes = list(CORE)
    return [
        make_report(codes[i % len(codes)], rng)
        for i in tqdm(range(n), desc="corpus", unit="report", disable=not progress, leave=False)
    ]


def write_jsonl(reports: Iterable[LabelledReport], path: Path | str) -> int:
    """Write one JSON object per line (UTF-8, accents kept); returns the number of lines."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as f:
        for report in reports:
            f.write(json.dumps(asdict(report), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: Path | str) -> list[LabelledReport]:
    """Read a file written by :func:`write_jsonl`; errors name the line that is wrong."""
    reports = []
    with Path(path).open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                reports.append(LabelledReport(**json.loads(line)))
            except (json.JSONDecodeError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{lineno}: not a labelled report: {exc}") from exc
    return reports
