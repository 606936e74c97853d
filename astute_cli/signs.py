"""The sign catalogue: GOST R 52290 / RTSD code -> names (ru/en), group, value kind and unit, spoken phrase.

Codes use ``_`` for ``.`` (``3_24`` is sign 3.24). Model labels carry the number printed on value signs:
``3_24_n60`` (integer), ``3_13_r3.5`` (real). Variants (``1_11_1``, ``5_15_2_a``, RTSD's ``4_1_2_1``) share
their base sign's name, plus a direction word where the variant has one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# code: (name ru, name en). Real GOST R 52290-2004 / ПДД names.
_NAMES: dict[str, tuple[str, str]] = {
    # 1. warning
    "1_1": ("Железнодорожный переезд со шлагбаумом", "Level crossing with barrier"),
    "1_2": ("Железнодорожный переезд без шлагбаума", "Level crossing without barrier"),
    "1_3_1": ("Однопутная железная дорога", "Single-track railway"),
    "1_3_2": ("Многопутная железная дорога", "Multi-track railway"),
    "1_4": ("Приближение к железнодорожному переезду", "Approach to a level crossing"),
    "1_5": ("Пересечение с трамвайной линией", "Tramway crossing"),
    "1_6": ("Пересечение равнозначных дорог", "Crossroads of equal roads"),
    "1_7": ("Пересечение с круговым движением", "Roundabout ahead"),
    "1_8": ("Светофорное регулирование", "Traffic lights"),
    "1_9": ("Разводной мост", "Drawbridge"),
    "1_10": ("Выезд на набережную", "Quay or riverbank"),
    "1_11": ("Опасный поворот", "Dangerous bend"),
    "1_12": ("Опасные повороты", "Double bend"),
    "1_13": ("Крутой спуск", "Steep descent"),
    "1_14": ("Крутой подъём", "Steep ascent"),
    "1_15": ("Скользкая дорога", "Slippery road"),
    "1_16": ("Неровная дорога", "Uneven road"),
    "1_17": ("Искусственная неровность", "Speed bump"),
    "1_18": ("Выброс гравия", "Loose chippings"),
    "1_19": ("Опасная обочина", "Dangerous roadside"),
    "1_20": ("Сужение дороги", "Road narrows"),
    "1_21": ("Двустороннее движение", "Two-way traffic"),
    "1_22": ("Пешеходный переход", "Pedestrian crossing ahead"),
    "1_23": ("Дети", "Children"),
    "1_24": ("Пересечение с велосипедной дорожкой", "Cycle path crossing"),
    "1_25": ("Дорожные работы", "Roadworks"),
    "1_26": ("Перегон скота", "Cattle crossing"),
    "1_27": ("Дикие животные", "Wild animals"),
    "1_28": ("Падение камней", "Falling rocks"),
    "1_29": ("Боковой ветер", "Crosswind"),
    "1_30": ("Низколетящие самолёты", "Low-flying aircraft"),
    "1_31": ("Тоннель", "Tunnel"),
    "1_32": ("Затор", "Traffic jam"),
    "1_33": ("Прочие опасности", "Other danger"),
    "1_34": ("Направление поворота", "Direction of bend"),
    "1_35": ("Участок перекрёстка", "Box junction"),
    # 2. priority
    "2_1": ("Главная дорога", "Priority road"),
    "2_2": ("Конец главной дороги", "End of priority road"),
    "2_3": ("Пересечение со второстепенной дорогой", "Crossroads with a minor road"),
    "2_3_1": ("Пересечение со второстепенной дорогой", "Crossroads with a minor road"),
    "2_3_2": ("Примыкание второстепенной дороги", "Minor road joining"),
    "2_3_3": ("Примыкание второстепенной дороги", "Minor road joining"),
    "2_3_4": ("Примыкание второстепенной дороги", "Minor road joining"),
    "2_3_5": ("Примыкание второстепенной дороги", "Minor road joining"),
    "2_3_6": ("Примыкание второстепенной дороги", "Minor road joining"),
    "2_3_7": ("Примыкание второстепенной дороги", "Minor road joining"),
    "2_4": ("Уступите дорогу", "Give way"),
    "2_5": ("Движение без остановки запрещено", "Stop"),
    "2_6": ("Преимущество встречного движения", "Priority to oncoming traffic"),
    "2_7": ("Преимущество перед встречным движением", "Priority over oncoming traffic"),
    # 3. prohibitory
    "3_1": ("Въезд запрещён", "No entry"),
    "3_2": ("Движение запрещено", "No vehicles"),
    "3_3": ("Движение механических транспортных средств запрещено", "No motor vehicles"),
    "3_4": ("Движение грузовых автомобилей запрещено", "No trucks"),
    "3_5": ("Движение мотоциклов запрещено", "No motorcycles"),
    "3_6": ("Движение тракторов запрещено", "No tractors"),
    "3_7": ("Движение с прицепом запрещено", "No trailers"),
    "3_8": ("Движение гужевых повозок запрещено", "No horse-drawn carts"),
    "3_9": ("Движение на велосипедах запрещено", "No bicycles"),
    "3_10": ("Движение пешеходов запрещено", "No pedestrians"),
    "3_11": ("Ограничение массы", "Weight limit"),
    "3_12": ("Ограничение массы, приходящейся на ось транспортного средства", "Axle weight limit"),
    "3_13": ("Ограничение высоты", "Height limit"),
    "3_14": ("Ограничение ширины", "Width limit"),
    "3_15": ("Ограничение длины", "Length limit"),
    "3_16": ("Ограничение минимальной дистанции", "Minimum distance"),
    "3_17_1": ("Таможня", "Customs"),
    "3_17_2": ("Опасность", "Danger"),
    "3_17_3": ("Контроль", "Control"),
    "3_18": ("Поворот запрещён", "No turn"),
    "3_18_1": ("Поворот направо запрещён", "No right turn"),
    "3_18_2": ("Поворот налево запрещён", "No left turn"),
    "3_19": ("Разворот запрещён", "No U-turn"),
    "3_20": ("Обгон запрещён", "No overtaking"),
    "3_21": ("Конец зоны запрещения обгона", "End of no overtaking"),
    "3_22": ("Обгон грузовым автомобилям запрещён", "No overtaking for trucks"),
    "3_23": ("Конец зоны запрещения обгона грузовым автомобилям", "End of no overtaking for trucks"),
    "3_24": ("Ограничение максимальной скорости", "Maximum speed limit"),
    "3_25": ("Конец зоны ограничения максимальной скорости", "End of maximum speed limit"),
    "3_26": ("Подача звукового сигнала запрещена", "No horn"),
    "3_27": ("Остановка запрещена", "No stopping"),
    "3_28": ("Стоянка запрещена", "No parking"),
    "3_29": ("Стоянка запрещена по нечётным числам месяца", "No parking on odd days"),
    "3_30": ("Стоянка запрещена по чётным числам месяца", "No parking on even days"),
    "3_31": ("Конец зоны всех ограничений", "End of all restrictions"),
    "3_32": ("Движение транспортных средств с опасными грузами запрещено", "No dangerous goods"),
    "3_33": ("Движение транспортных средств с взрывчатыми и легковоспламеняющимися грузами запрещено",
             "No explosives or flammable goods"),
    # 4. mandatory
    "4_1_1": ("Движение прямо", "Straight ahead only"),
    "4_1_2": ("Движение направо", "Turn right only"),
    "4_1_3": ("Движение налево", "Turn left only"),
    "4_1_4": ("Движение прямо или направо", "Straight ahead or right only"),
    "4_1_5": ("Движение прямо или налево", "Straight ahead or left only"),
    "4_1_6": ("Движение направо или налево", "Turn right or left only"),
    "4_2_1": ("Объезд препятствия справа", "Keep right"),
    "4_2_2": ("Объезд препятствия слева", "Keep left"),
    "4_2_3": ("Объезд препятствия справа или слева", "Pass either side"),
    "4_3": ("Круговое движение", "Roundabout"),
    "4_4_1": ("Велосипедная дорожка", "Cycle path"),
    "4_4_2": ("Конец велосипедной дорожки", "End of cycle path"),
    "4_5": ("Пешеходная дорожка", "Footpath"),
    "4_5_1": ("Пешеходная дорожка", "Footpath"),
    "4_5_2": ("Пешеходная и велосипедная дорожка с совмещённым движением", "Shared foot and cycle path"),
    "4_5_3": ("Конец пешеходной и велосипедной дорожки с совмещённым движением",
              "End of shared foot and cycle path"),
    "4_5_4": ("Пешеходная и велосипедная дорожка с разделением движения", "Segregated foot and cycle path"),
    "4_5_5": ("Пешеходная и велосипедная дорожка с разделением движения", "Segregated foot and cycle path"),
    "4_5_6": ("Конец пешеходной и велосипедной дорожки с разделением движения",
              "End of segregated foot and cycle path"),
    "4_5_7": ("Конец пешеходной и велосипедной дорожки с разделением движения",
              "End of segregated foot and cycle path"),
    "4_6": ("Ограничение минимальной скорости", "Minimum speed limit"),
    "4_7": ("Конец зоны ограничения минимальной скорости", "End of minimum speed limit"),
    "4_8": ("Направление движения транспортных средств с опасными грузами", "Dangerous goods route"),
    # 5. special regulations
    "5_1": ("Автомагистраль", "Motorway"),
    "5_2": ("Конец автомагистрали", "End of motorway"),
    "5_3": ("Дорога для автомобилей", "Road for motor vehicles"),
    "5_4": ("Конец дороги для автомобилей", "End of road for motor vehicles"),
    "5_5": ("Дорога с односторонним движением", "One-way road"),
    "5_6": ("Конец дороги с односторонним движением", "End of one-way road"),
    "5_7": ("Выезд на дорогу с односторонним движением", "Exit to a one-way road"),
    "5_8": ("Реверсивное движение", "Reversible lanes"),
    "5_9": ("Конец реверсивного движения", "End of reversible lanes"),
    "5_10": ("Выезд на дорогу с реверсивным движением", "Exit to a road with reversible lanes"),
    "5_11": ("Дорога с полосой для маршрутных транспортных средств", "Road with a bus lane"),
    "5_11_2": ("Дорога с полосой для велосипедистов", "Road with a cycle lane"),
    "5_12": ("Конец дороги с полосой для маршрутных транспортных средств", "End of road with a bus lane"),
    "5_12_2": ("Конец дороги с полосой для велосипедистов", "End of road with a cycle lane"),
    "5_13": ("Выезд на дорогу с полосой для маршрутных транспортных средств", "Exit to a road with a bus lane"),
    "5_13_3": ("Выезд на дорогу с полосой для велосипедистов", "Exit to a road with a cycle lane"),
    "5_13_4": ("Выезд на дорогу с полосой для велосипедистов", "Exit to a road with a cycle lane"),
    "5_14": ("Полоса для маршрутных транспортных средств", "Bus lane"),
    "5_14_1": ("Конец полосы для маршрутных транспортных средств", "End of bus lane"),
    "5_14_2": ("Полоса для велосипедистов", "Cycle lane"),
    "5_14_3": ("Конец полосы для велосипедистов", "End of cycle lane"),
    "5_15_1": ("Направления движения по полосам", "Lane directions"),
    "5_15_2": ("Направления движения по полосе", "Lane direction"),
    "5_15_3": ("Начало полосы", "Lane begins"),
    "5_15_4": ("Начало полосы", "Lane begins"),
    "5_15_5": ("Конец полосы", "Lane ends"),
    "5_15_6": ("Конец полосы", "Lane ends"),
    "5_15_7": ("Направление движения по полосам", "Lane directions with oncoming traffic"),
    "5_15_8": ("Число полос", "Number of lanes"),
    "5_16": ("Место остановки автобуса и (или) троллейбуса", "Bus or trolleybus stop"),
    "5_17": ("Место остановки трамвая", "Tram stop"),
    "5_18": ("Место стоянки легковых такси", "Taxi rank"),
    "5_19": ("Пешеходный переход", "Pedestrian crossing"),
    "5_20": ("Искусственная неровность", "Speed bump"),
    "5_21": ("Жилая зона", "Residential zone"),
    "5_22": ("Конец жилой зоны", "End of residential zone"),
    "5_23": ("Начало населённого пункта", "Built-up area"),
    "5_24": ("Конец населённого пункта", "End of built-up area"),
    "5_25": ("Начало населённого пункта", "Settlement begins"),
    "5_26": ("Конец населённого пункта", "Settlement ends"),
    "5_27": ("Зона с ограничением стоянки", "Restricted parking zone"),
    "5_28": ("Конец зоны с ограничением стоянки", "End of restricted parking zone"),
    "5_29": ("Зона регулируемой стоянки", "Regulated parking zone"),
    "5_30": ("Конец зоны регулируемой стоянки", "End of regulated parking zone"),
    "5_31": ("Зона с ограничением максимальной скорости", "Speed limit zone"),
    "5_32": ("Конец зоны с ограничением максимальной скорости", "End of speed limit zone"),
    "5_33": ("Пешеходная зона", "Pedestrian zone"),
    "5_34": ("Конец пешеходной зоны", "End of pedestrian zone"),
    "5_35": ("Зона с ограничением экологического класса механических транспортных средств", "Low-emission zone"),
    "5_36": ("Зона с ограничением экологического класса грузовых автомобилей", "Low-emission zone for trucks"),
    "5_37": ("Конец зоны с ограничением экологического класса механических транспортных средств",
             "End of low-emission zone"),
    "5_38": ("Конец зоны с ограничением экологического класса грузовых автомобилей",
             "End of low-emission zone for trucks"),
    # 6. information
    "6_1": ("Общие ограничения максимальной скорости", "General speed limits"),
    "6_2": ("Рекомендуемая скорость", "Recommended speed"),
    "6_3_1": ("Место для разворота", "U-turn place"),
    "6_3_2": ("Зона для разворота", "U-turn area"),
    "6_4": ("Парковка (парковочное место)", "Parking"),
    "6_5": ("Полоса для аварийной остановки", "Emergency stopping lane"),
    "6_6": ("Подземный пешеходный переход", "Pedestrian underpass"),
    "6_7": ("Надземный пешеходный переход", "Pedestrian overpass"),
    "6_8": ("Тупик", "Dead end"),
    "6_9_1": ("Предварительный указатель направлений", "Advance direction sign"),
    "6_9_2": ("Предварительный указатель направления", "Advance direction sign"),
    "6_9_3": ("Схема движения", "Traffic layout"),
    "6_10": ("Указатель направлений", "Direction sign"),
    "6_10_2": ("Указатель направления", "Direction sign"),
    "6_11": ("Наименование объекта", "Place name"),
    "6_12": ("Указатель расстояний", "Distance sign"),
    "6_13": ("Километровый знак", "Kilometre marker"),
    "6_14": ("Номер маршрута", "Route number"),
    "6_15": ("Направление движения для грузовых автомобилей", "Direction for trucks"),
    "6_16": ("Стоп-линия", "Stop line"),
    "6_17": ("Схема объезда", "Detour layout"),
    "6_18": ("Направление объезда", "Detour direction"),
    "6_19": ("Предварительный указатель перестроения на другую проезжую часть", "Advance lane change sign"),
    "6_20": ("Аварийный выход", "Emergency exit"),
    "6_21": ("Направление движения к аварийному выходу", "Direction to emergency exit"),
    # 7. service
    "7_1": ("Пункт медицинской помощи", "First aid"),
    "7_2": ("Больница", "Hospital"),
    "7_3": ("Автозаправочная станция", "Fuel station"),
    "7_4": ("Техническое обслуживание автомобилей", "Car service"),
    "7_5": ("Мойка автомобилей", "Car wash"),
    "7_6": ("Телефон", "Telephone"),
    "7_7": ("Пункт питания", "Restaurant"),
    "7_8": ("Питьевая вода", "Drinking water"),
    "7_9": ("Гостиница или мотель", "Hotel or motel"),
    "7_10": ("Кемпинг", "Camping"),
    "7_11": ("Место отдыха", "Rest area"),
    "7_12": ("Пост дорожно-патрульной службы", "Traffic police post"),
    "7_13": ("Полиция", "Police"),
    "7_14": ("Пункт контроля международных автомобильных перевозок", "International transport checkpoint"),
    "7_14_1": ("Пункт транспортного контроля", "Transport checkpoint"),
    "7_15": ("Зона приёма радиостанции, передающей информацию о дорожном движении", "Traffic radio zone"),
    "7_16": ("Зона радиосвязи с аварийными службами", "Emergency radio zone"),
    "7_17": ("Бассейн или пляж", "Swimming pool or beach"),
    "7_18": ("Туалет", "Toilet"),
    "7_19": ("Телефон экстренной связи", "Emergency telephone"),
    "7_20": ("Огнетушитель", "Fire extinguisher"),
    "7_21": ("Автозаправочная станция с возможностью зарядки электромобилей", "Electric vehicle charging"),
    # 8. additional plates
    "8_1": ("Расстояние до объекта", "Distance to object"),
    "8_2": ("Зона действия", "Zone of effect"),
    "8_3": ("Направления действия", "Direction of effect"),
    "8_4": ("Вид транспортного средства", "Vehicle type"),
    "8_4_9": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_4_10": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_4_11": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_4_12": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_4_13": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_4_14": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_4_15": ("Кроме вида транспортного средства", "Except vehicle type"),
    "8_5_1": ("Субботние, воскресные и праздничные дни", "Weekends and holidays"),
    "8_5_2": ("Рабочие дни", "Working days"),
    "8_5_3": ("Дни недели", "Days of the week"),
    "8_5": ("Время действия", "Hours of effect"),
    "8_6": ("Способ постановки транспортного средства на стоянку", "Parking method"),
    "8_7": ("Стоянка с неработающим двигателем", "Parking with engine off"),
    "8_8": ("Платные услуги", "Paid services"),
    "8_9": ("Ограничение продолжительности стоянки", "Parking time limit"),
    "8_9_1": ("Стоянка только для владельцев разрешения", "Parking for permit holders only"),
    "8_9_2": ("Стоянка только для транспортных средств дипломатического корпуса", "Diplomatic parking only"),
    "8_10": ("Место для осмотра автомобилей", "Vehicle inspection place"),
    "8_11": ("Ограничение разрешённой максимальной массы", "Gross weight limit"),
    "8_12": ("Опасная обочина", "Dangerous roadside"),
    "8_13": ("Направление главной дороги", "Direction of priority road"),
    "8_14": ("Полоса движения", "Lane"),
    "8_15": ("Слепые пешеходы", "Blind pedestrians"),
    "8_16": ("Влажное покрытие", "Wet surface"),
    "8_17": ("Инвалиды", "Disabled persons"),
    "8_18": ("Кроме инвалидов", "Except disabled persons"),
    "8_19": ("Класс опасного груза", "Dangerous goods class"),
    "8_20": ("Тип тележки транспортного средства", "Bogie type"),
    "8_21": ("Вид маршрутного транспортного средства", "Route vehicle type"),
    "8_22": ("Препятствие", "Obstacle"),
    "8_23": ("Фотовидеофиксация", "Traffic camera"),
    "8_24": ("Работает эвакуатор", "Tow-away zone"),
    "8_25": ("Экологический класс транспортного средства", "Vehicle emission class"),
}

# Variants that differ from their base by direction: code -> (ru word, en word), appended to the base name.
_DIRECTIONS: dict[str, tuple[str, str]] = {
    "1_11_1": ("направо", "to the right"), "1_11_2": ("налево", "to the left"),
    "1_12_1": ("с первым поворотом направо", "first to the right"),
    "1_12_2": ("с первым поворотом налево", "first to the left"),
    "1_20_1": ("с обеих сторон", "on both sides"), "1_20_2": ("справа", "on the right"),
    "1_20_3": ("слева", "on the left"),
    "1_34_1": ("направо", "to the right"), "1_34_2": ("налево", "to the left"),
    "1_34_3": ("направо или налево", "to the right or left"),
    "2_3_2": ("справа", "from the right"), "2_3_3": ("слева", "from the left"),
    "2_3_4": ("справа", "from the right"), "2_3_5": ("слева", "from the left"),
    "2_3_6": ("справа", "from the right"), "2_3_7": ("слева", "from the left"),
    "4_8_1": ("прямо", "straight ahead"), "4_8_2": ("направо", "to the right"), "4_8_3": ("налево", "to the left"),
    "5_7_1": ("направо", "to the right"), "5_7_2": ("налево", "to the left"),
    "6_8_1": ("", ""), "6_8_2": ("справа", "on the right"), "6_8_3": ("слева", "on the left"),
    "6_15_1": ("прямо", "straight ahead"), "6_15_2": ("направо", "to the right"),
    "6_15_3": ("налево", "to the left"),
}

# value signs: code -> (value kind, unit)
_VALUES: dict[str, tuple[str, str]] = {
    "3_4": ("weight", "t"), "3_11": ("weight", "t"), "3_12": ("axle_weight", "t"), "3_13": ("height", "m"),
    "3_14": ("width", "m"), "3_15": ("length", "m"), "3_16": ("distance", "m"), "3_24": ("speed", "km/h"),
    "3_25": ("speed", "km/h"), "4_6": ("speed", "km/h"), "4_7": ("speed", "km/h"), "6_2": ("speed", "km/h"),
    "8_11": ("weight", "t"), "8_1": ("distance", "m"), "8_2": ("distance", "m"),
}
_NO_VALUE = {"8_2_3", "8_2_4"}  # end of zone / inside the zone: plates of group 8.2 without a number

# short spoken names of value signs: code -> (ru, en); the quantity goes at ``{}`` or after the name
_SPOKEN: dict[str, tuple[str, str]] = {
    "3_4": ("Грузовым более {} запрещено", "No trucks over {}"),
    "3_11": ("Ограничение массы", "Weight limit"),
    "3_12": ("Ограничение нагрузки на ось", "Axle weight limit"),
    "3_13": ("Ограничение высоты", "Height limit"),
    "3_14": ("Ограничение ширины", "Width limit"),
    "3_15": ("Ограничение длины", "Length limit"),
    "3_16": ("Минимальная дистанция", "Minimum distance"),
    "3_24": ("Ограничение скорости", "Speed limit"),
    "3_25": ("Конец ограничения скорости", "End of speed limit"),
    "4_6": ("Минимальная скорость", "Minimum speed"),
    "4_7": ("Конец минимальной скорости", "End of minimum speed"),
    "6_2": ("Рекомендуемая скорость", "Recommended speed"),
    "8_11": ("Ограничение массы", "Weight limit"),
    "8_1": ("Через {}", "In {}"),
    "8_2": ("Зона действия {}", "For the next {}"),
}

_SPEED_KINDS = {"speed"}
_GROUP_PRIORITY = {3: 1, 1: 2, 2: 3, 4: 4}
_CODE_RE = re.compile(r"^[1-8](?:_\d+)*(?:_[a-z])?$")
_VALUE_RE = re.compile(r"^(?P<code>[1-8](?:_\d+)+?)_(?P<kind>[nr])(?P<value>\d+(?:[.,]\d+)?)$")


@dataclass(frozen=True)
class SignInfo:
    """One sign of the catalogue.

    Attributes:
        code: GOST R 52290 code with ``_`` for ``.`` (``3_24``).
        name_ru: the standard's Russian name.
        name_en: an English name.
        group: 1 warning, 2 priority, 3 prohibitory, 4 mandatory, 5 special, 6 information, 7 service,
            8 plates; 0 for unknown codes.
        value_kind: what the number on the sign measures, or None.
        unit: ``km/h``, ``m``, ``t`` or None.
        priority: lower is more urgent (1 prohibitory/speed, 2 warning, 3 priority, 4 mandatory, 5 other).
        size_m: width of a typesize-II sign in metres (for distance from box width).
    """

    code: str
    name_ru: str
    name_en: str
    group: int
    value_kind: str | None
    unit: str | None
    priority: int
    size_m: float


def _normalise(code: str) -> str:
    return str(code).strip().replace(".", "_")


def _base_of(code: str) -> str | None:
    """The longest prefix of ``code`` (by ``_`` parts) that has a name, or None."""
    parts = code.split("_")
    for n in range(len(parts), 0, -1):
        prefix = "_".join(parts[:n])
        if prefix in _NAMES:
            return prefix
    return None


def _direction(code: str) -> tuple[str, str] | None:
    parts = code.split("_")
    for n in range(len(parts), 1, -1):
        word = _DIRECTIONS.get("_".join(parts[:n]))
        if word is not None:
            return word
    return None


def _size_m(code: str, group: int) -> float:
    """Typesize-II width: round 0.7, triangle 0.9, square 0.6, large info boards up to 1.0."""
    if group == 1:
        return 0.6 if code.startswith("1_34") else 0.9
    if group == 2:
        return {"2_1": 0.7, "2_2": 0.7, "2_5": 0.7, "2_6": 0.7, "2_7": 0.6}.get(code[:3], 0.9)
    if group in (3, 4):
        return 0.7
    if group == 5:
        return 1.0 if code.startswith(("5_15", "5_23", "5_24", "5_25", "5_26")) else 0.6
    if group == 6:
        return 1.0 if code.startswith(("6_9", "6_10", "6_11", "6_12", "6_17", "6_19")) else 0.6
    return 0.6


def _priority(code: str, group: int, value_kind: str | None) -> int:
    if value_kind in _SPEED_KINDS and group in (3, 4):
        return 1
    return _GROUP_PRIORITY.get(group, 5)


def _group(code: str) -> int:
    head = code.split("_", 1)[0]
    return int(head) if head.isdigit() and 1 <= int(head) <= 8 else 0


@cache
def lookup(code: str) -> SignInfo:
    """The catalogue entry for a sign code (``3_24`` or ``3.24``); never raises.

    Unknown codes get a generic entry named "Дорожный знак X" / "Road sign X". A label with a value
    (``3_24_n60``) is looked up by its code.
    """
    code = parse_label(_normalise(code))[0]
    base = _base_of(code) if _CODE_RE.match(code) else None
    group = _group(code) if base else 0
    if base is None:
        return SignInfo(code, f"Дорожный знак {code.replace('_', '.')}", f"Road sign {code.replace('_', '.')}",
                        group, None, None, 5, 0.7)
    ru, en = _NAMES[base]
    word = _direction(code)
    if word is not None and word[0]:
        ru, en = f"{ru} {word[0]}", f"{en} {word[1]}"
    kind, unit = (None, None) if code in _NO_VALUE else _VALUES.get(base, (None, None))
    return SignInfo(code, ru, en, group, kind, unit, _priority(base, group, kind), _size_m(code, group))


def _known_codes() -> set[str]:
    from astute_cli.paths import shared_data

    codes = set(_NAMES) | set(_DIRECTIONS)
    data = shared_data()
    for path in (data / "rtsd-meta" / "rtsd_fullgt_classes_with_values.txt", data / "signs" / "INDEX.txt"):
        if path.exists():
            codes |= {parse_label(line.split()[0])[0] for line in path.read_text().splitlines() if line.strip()}
    labels = data / "rtsd-meta" / "kaggle_label_map.json"
    if labels.exists():
        import json

        codes |= set(json.loads(labels.read_text()))
    return codes


@cache
def _catalogue() -> dict[str, SignInfo]:
    return {code: lookup(code) for code in sorted(_known_codes(), key=_sort_key)}


def catalogue() -> dict[str, SignInfo]:
    """Every known sign: the table's codes, every RTSD class and every pictogram code, by code."""
    return dict(_catalogue())


def _sort_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("_"))


def parse_label(label: str) -> tuple[str, float | None]:
    """Split a model/RTSD label into (sign code, value).

    ``3_24_n60`` -> (``3_24``, 60.0); ``3_13_r3.5`` -> (``3_13``, 3.5); ``5_19_1`` -> (``5_19_1``, None).
    Labels that are not signs (``sign``, ``background``) come back unchanged with None.
    """
    match = _VALUE_RE.match(str(label))
    if match is None:
        return str(label), None
    return match["code"], float(match["value"].replace(",", "."))


def make_label(code: str, value: float | None) -> str:
    """The label for a sign with a value: (``3_24``, 60) -> ``3_24_n60``, (``3_13``, 3.5) -> ``3_13_r3.5``."""
    if value is None:
        return code
    if float(value).is_integer():
        return f"{code}_n{int(value)}"
    return f"{code}_r{_number(value, '.')}"


def _number(value: float, point: str) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", point)


def _plural_ru(value: float, one: str, few: str, many: str) -> str:
    """Russian agreement of a unit with a number: 1 метр, 2 метра, 5 метров; fractions take the few-form."""
    if not float(value).is_integer():
        return few
    n = abs(int(value))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


_UNITS_RU = {"m": ("метр", "метра", "метров"), "t": ("тонна", "тонны", "тонн"),
             "km": ("километр", "километра", "километров")}
_UNITS_EN = {"m": ("metre", "metres"), "t": ("tonne", "tonnes"), "km/h": ("km/h", "km/h"),
             "km": ("kilometre", "kilometres")}


def quantity(value: float, unit: str | None, lang: str = "ru") -> str:
    """A spoken quantity: (3.5, ``m``) -> ``3,5 метра`` / ``3.5 metres``; speed in Russian is the bare number;
    1000 m and more in kilometres (1500, ``m``) -> ``1,5 километра`` / ``1.5 kilometres``."""
    if unit == "m" and float(value) >= 1000:
        value, unit = float(value) / 1000.0, "km"
    if lang == "ru":
        words = _UNITS_RU.get(unit or "")
        number = _number(value, ",")
        return f"{number} {_plural_ru(value, *words)}" if words else number
    number = _number(value, ".")
    words = _UNITS_EN.get(unit or "")
    if words is None:
        return number
    return f"{number} {words[0] if float(value) == 1 else words[1]}"


def sign_name(code: str, lang: str = "ru") -> str:
    """The sign's full name in ``ru`` or ``en``."""
    info = lookup(code)
    return info.name_en if lang == "en" else info.name_ru


def phrase(code: str, value: float | None = None, lang: str = "ru") -> str:
    """The short spoken alert: ``Ограничение скорости 60``, ``Height limit 3.5 metres``, ``Пешеходный переход``.

    A value sign without a value (or any sign without one) is just its name.
    """
    code, label_value = parse_label(_normalise(code))
    value = label_value if value is None else value
    info = lookup(code)
    base = _base_of(code)
    if value is None or info.value_kind is None or base is None:
        return sign_name(code, lang)
    spoken = _SPOKEN.get(base, (info.name_ru, info.name_en))[1 if lang == "en" else 0]
    template = spoken if "{}" in spoken else spoken + " {}"
    return template.format(quantity(float(value), info.unit, lang))


def bare_phrase(code: str, lang: str = "ru") -> str:
    """What is said for a value sign whose number is not read yet: its short name (``Ограничение скорости`` /
    ``Speed limit``); the full name where the short one needs the number (``Через …``)."""
    code = parse_label(_normalise(code))[0]
    base = _base_of(code)
    spoken = _SPOKEN.get(base or "", ("{}", "{}"))[1 if lang == "en" else 0]
    return sign_name(code, lang) if "{}" in spoken else spoken
