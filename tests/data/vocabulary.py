"""Word lists and catalogs behind `tests.data.generator`: places, names, phones, carriers, texts.

Real place names and postcodes, common given and family names per locale, phone prefixes that
libphonenumber accepts as valid, each market's usual carriers, a small product catalog and
complaint texts a customer would write, in en, zh-CN, de and es.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    price_usd: Decimal
    tags: tuple[str, ...] = ()


# (country, province code, city, zip, street) per locale; zips and streets are real places.
PLACES = {
    "en": [
        ("US", "CA", "San Francisco", "94103", "Market Street"),
        ("US", "NY", "Brooklyn", "11201", "Atlantic Avenue"),
        ("US", "TX", "Austin", "78701", "Congress Avenue"),
        ("US", "IL", "Chicago", "60601", "Lake Street"),
        ("US", "WA", "Seattle", "98101", "Pine Street"),
    ],
    "zh-CN": [
        ("CN", "SH", "上海市", "200120", "世纪大道"),
        ("CN", "BJ", "北京市", "100020", "建国路"),
        ("CN", "GD", "深圳市", "518000", "深南大道"),
        ("CN", "ZJ", "杭州市", "310000", "文三路"),
    ],
    "de": [
        ("DE", "BE", "Berlin", "10115", "Invalidenstraße"),
        ("DE", "BY", "München", "80331", "Sendlinger Straße"),
        ("DE", "HH", "Hamburg", "20095", "Mönckebergstraße"),
        ("DE", "NW", "Köln", "50667", "Hohe Straße"),
    ],
    "es": [
        ("ES", "M", "Madrid", "28013", "Calle Mayor"),
        ("ES", "B", "Barcelona", "08002", "Carrer de Ferran"),
        ("ES", "V", "Valencia", "46002", "Calle de Colón"),
        ("ES", "SE", "Sevilla", "41004", "Calle Sierpes"),
    ],
}
FIRST = {
    "en": _words(
        "James Mary Olivia Liam Noah Emma Ava Sophia Ethan Mia Lucas Amelia Harper Elijah"
    ),
    "zh-CN": _words("伟 芳 娜 秀英 敏 静 丽 强 磊 洋 艳 勇 军 杰 娟 涛 明 超 秀兰 霞"),
    "de": _words("Lukas Leonie Jürgen Sophie Maximilian Anna Jörg Lena Felix Marie Björn Käthe"),
    "es": _words("José María Lucía Martín Sofía Alejandro Paula Javier Carmen Íñigo Ángela Nuria"),
}
LAST = {
    "en": _words("Smith Johnson Williams Brown Garcia Miller Davis Lee Walker O'Brien Nguyen"),
    "zh-CN": _words("王 李 张 刘 陈 杨 黄 赵 吴 周"),
    "de": _words("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schäfer Köhler"),
    "es": _words("García Fernández González Rodríguez López Martínez Sánchez Pérez Jiménez Muñoz"),
}
PINYIN = dict(
    zip(LAST["zh-CN"], _words("wang li zhang liu chen yang huang zhao wu zhou"), strict=True)
)
# (country code, national prefixes, digits after the prefix, display groups): valid numbers.
PHONES = {
    "US": ("1", ("415555", "212555", "646555", "512555"), 4),
    "CN": ("86", ("138", "139", "186"), 8),
    "DE": ("49", ("151", "160", "176"), 8),
    "ES": ("34", ("6",), 8),
}
CARRIERS = {
    "US": (("UPS", 45), ("USPS", 35), ("FedEx", 20)),
    "CN": (("SF Express", 70), ("China Post", 30)),
    "DE": (("DHL", 60), ("Hermes", 25), ("DPD", 15)),
    "ES": (("Correos", 55), ("SEUR", 30), ("GLS", 15)),
}
CURRENCY_RATE = {"USD": Decimal(1), "EUR": Decimal("0.92"), "CNY": Decimal("7.2")}


# A small apparel/home/electronics catalog; SKUs carry variant suffixes when ordered.
CATALOG = (
    Product("TSH-ORG", "Organic Cotton T-Shirt", Decimal("24.99"), ("apparel",)),
    Product("HOOD-FLC", "Fleece Hoodie", Decimal("59.00"), ("apparel",)),
    Product("JEAN-SLM", "Slim Fit Jeans", Decimal("79.00"), ("apparel",)),
    Product("SNK-RUN", "Running Sneakers", Decimal("119.00"), ("shoes",)),
    Product("MUG-WHT-12OZ", "Ceramic Mug 12 oz", Decimal("14.50"), ("home",)),
    Product("COASTER-SET-4", "Cork Coaster Set (4)", Decimal("9.99"), ("home",)),
    Product("LAMP-DSK", "LED Desk Lamp", Decimal("49.99"), ("home",)),
    Product("EARBUD-BT", "Bluetooth Earbuds", Decimal("89.00"), ("electronics", "hygiene")),
    Product("CHRG-65W", "65W USB-C Charger", Decimal("39.00"), ("electronics",)),
    Product("BAG-20L", "Everyday Backpack 20L", Decimal("69.99"), ("bags",)),
    Product("SOCK-MER-3", "Merino Socks 3-Pack", Decimal("19.99"), ("apparel", "final-sale")),
    Product("SCARF-WL", "Wool Scarf", Decimal("34.99"), ("apparel",)),
)
CATALOG_WEIGHTS = (14, 8, 8, 6, 10, 6, 6, 5, 7, 5, 8, 6)
SIZES = ("XS", "S", "M", "L", "XL")
COLORS = ("BLK", "WHT", "NVY", "GRN", "RED")

# Complaint texts per topic and locale; {order} is the order number.
COMPLAINTS = {
    "late": {
        "en": [
            "Where is my order {order}? It has been over a week.",
            "My parcel {order} still hasn't arrived, the tracking hasn't moved in days.",
        ],
        "zh-CN": [
            "我的订单{order}已经一个多星期了，还没有收到。",
            "包裹{order}的物流好几天没有更新了，请帮忙查一下。",
        ],
        "de": [
            "Wo bleibt meine Bestellung {order}? Seit über einer Woche keine Lieferung.",
            "Die Sendungsverfolgung für {order} bewegt sich seit Tagen nicht mehr.",
        ],
        "es": [
            "¿Dónde está mi pedido {order}? Ya ha pasado más de una semana.",
            "El seguimiento del paquete {order} no se ha movido en días.",
        ],
    },
    "damaged": {
        "en": [
            "The item in order {order} arrived broken, the box was crushed.",
            "Order {order}: the mug came cracked. Can I get a replacement?",
        ],
        "zh-CN": [
            "订单{order}收到时商品已经坏了，外箱被压扁了。",
            "订单{order}里的杯子有裂缝，可以换一个吗？",
        ],
        "de": [
            "Der Artikel aus Bestellung {order} kam beschädigt an, der Karton war eingedrückt.",
            "Bestellung {order}: Die Tasse hat einen Sprung. Bekomme ich Ersatz?",
        ],
        "es": [
            "El artículo del pedido {order} llegó roto, la caja estaba aplastada.",
            "Pedido {order}: la taza llegó rajada. ¿Me pueden enviar otra?",
        ],
    },
    "wrong_item": {
        "en": ["I ordered a medium but received an XL in order {order}."],
        "zh-CN": ["订单{order}我买的是M码，收到的却是XL码。"],
        "de": ["Ich habe Größe M bestellt, in Bestellung {order} war aber XL."],
        "es": ["Pedí una talla M pero en el pedido {order} me llegó una XL."],
    },
    "not_received": {
        "en": ["Tracking says order {order} was delivered but nothing is at my door."],
        "zh-CN": ["物流显示订单{order}已签收，但我根本没有收到。"],
        "de": ["Laut Tracking wurde {order} zugestellt, aber hier ist nichts angekommen."],
        "es": [
            "El seguimiento dice que el pedido {order} fue entregado, pero no he recibido nada."
        ],
    },
    "size": {
        "en": ["Too small for me, I'd like to return order {order}."],
        "zh-CN": ["尺码太小了，我想退回订单{order}。"],
        "de": ["Leider zu klein, ich möchte Bestellung {order} zurückschicken."],
        "es": ["Me queda pequeño, quiero devolver el pedido {order}."],
    },
}
SMS_REPLIES = {
    "en": ["Where is my parcel?", "STOP", "Can you deliver it tomorrow instead?", "Thanks!"],
    "zh-CN": ["我的包裹到哪里了？", "退订", "可以明天再送吗？", "谢谢！"],
    "de": ["Wo ist mein Paket?", "STOP", "Können Sie morgen liefern?", "Danke!"],
    "es": ["¿Dónde está mi paquete?", "BAJA", "¿Pueden entregarlo mañana?", "¡Gracias!"],
}
# Shopify return reasons with the complaint topic a customer writes about them.
RETURN_REASONS = (
    ("size_too_small", "size", 30),
    ("size_too_large", "size", 15),
    ("defective", "damaged", 15),
    ("not_as_described", "damaged", 10),
    ("wrong_item", "wrong_item", 10),
    ("unwanted", "size", 15),
    ("other", "late", 5),
)


MERCHANTS = (
    ("northwind-outfitters", "Northwind Outfitters", "America/Los_Angeles", "en", "USD", "US"),
    ("lindenhof-haushalt", "Lindenhof Haushalt", "Europe/Berlin", "de", "EUR", "DE"),
    ("tienda-del-sol", "Tienda del Sol", "Europe/Madrid", "es", "EUR", "ES"),
    ("jade-garden-home", "翠园家居", "Asia/Shanghai", "zh-CN", "CNY", "CN"),
    ("brooklyn-basics", "Brooklyn Basics", "America/New_York", "en", "USD", "US"),
)


# Carrier stories after the label: the statuses each shipment goes through, with weights.
STORIES = (
    (("in_transit", "out_for_delivery", "delivered"), 78),
    (("in_transit", "available_for_pickup", "delivered"), 6),
    (("in_transit", "out_for_delivery", "failure", "out_for_delivery", "delivered"), 6),
    (("in_transit", "failure"), 4),
    (("in_transit", "return_to_sender"), 2),
    (("in_transit",), 4),  # still moving when the data ends
)
IN_TRANSIT = (
    ("arrived_at_facility", "Arrived at carrier facility"),
    ("departed_facility", "Departed carrier facility"),
    ("in_transit", "In transit to next facility"),
)
DETAILS = {
    "pre_transit": ("label_created", "Shipping label created"),
    "in_transit": ("arrived_at_facility", "Arrived at carrier facility"),
    "out_for_delivery": ("out_for_delivery", "Out for delivery"),
    "available_for_pickup": ("arrived_at_destination", "Available for pickup at access point"),
    "delivered": ("arrived_at_destination", "Delivered, front door"),
    "failure": ("delivery_attempted", "Delivery attempted, recipient not available"),
    "return_to_sender": ("return", "Returned to sender: address unknown"),
}
