//! Names of the provinces and cities the shipped rubrics serve (GB/T 2260), for pages: a code
//! without a name here shows as its code.

const NAMES: &[(&str, &str)] = &[
    ("210000", "辽宁省"),
    ("210100", "沈阳市"),
    ("210200", "大连市"),
    ("210300", "鞍山市"),
    ("210400", "抚顺市"),
    ("210500", "本溪市"),
    ("210600", "丹东市"),
    ("210700", "锦州市"),
    ("210800", "营口市"),
    ("210900", "阜新市"),
    ("211000", "辽阳市"),
    ("211100", "盘锦市"),
    ("211200", "铁岭市"),
    ("211300", "朝阳市"),
    ("211400", "葫芦岛市"),
    ("211221", "铁岭县"),
    ("320000", "江苏省"),
    ("320100", "南京市"),
    ("320200", "无锡市"),
    ("320300", "徐州市"),
    ("320400", "常州市"),
    ("320500", "苏州市"),
    ("320600", "南通市"),
    ("320700", "连云港市"),
    ("320800", "淮安市"),
    ("320900", "盐城市"),
    ("321000", "扬州市"),
    ("321100", "镇江市"),
    ("321200", "泰州市"),
    ("321300", "宿迁市"),
];

/// The name of a 行政区划代码, if known.
pub fn name(code: &str) -> Option<&'static str> {
    NAMES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// The city a code belongs to, named: "铁岭市", or the city's code.
pub fn city_of(code: &str) -> String {
    let city = format!("{}00", &code[..4.min(code.len())]);
    name(&city).map(str::to_string).unwrap_or(city)
}
