//! HTML text: escaping and the page frame. Every value that came from data goes through
//! [`esc`]; pages are built from `format!` and these helpers, never from concatenated input.

use hallmark_province::staff::Staff;

/// Escapes text for an HTML element or a quoted attribute.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Escapes a query-string value.
pub fn url(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// 合格 / 不合格 / 否决 / 评价人员不足 / 无合格线 / 未评价.
pub fn outcome(o: Option<&str>) -> &'static str {
    match o {
        Some("pass") => "合格",
        Some("fail") => "不合格",
        Some("vetoed") => "否决",
        Some("insufficient") => "评价人员不足",
        Some("incomplete") => "评分表未完成",
        Some("no_pass_line") => "无合格线",
        Some(_) => "其他",
        None => "未评价",
    }
}

pub fn level(l: &str) -> &'static str {
    match l {
        "province" => "省级",
        "city" => "市级",
        "county" => "县级",
        "township" => "乡镇（街道）",
        _ => "其他",
    }
}

/// The page frame: header with the navigation the user may use, then `body`.
pub fn frame(title: &str, who: Option<(&Staff, &str)>, active: &str, body: &str) -> String {
    let nav = match who {
        None => String::new(),
        Some((s, csrf)) => {
            let mut links = vec![("/halls", "服务大厅"), ("/due", "到期复评"), ("/items", "扣分项分析"), ("/assignments", "评价任务")];
            if s.admin {
                links.push(("/staff", "用户管理"));
            }
            if s.reads_audit_log() {
                links.push(("/audit", "审计日志"));
            }
            let links: String = links
                .iter()
                .map(|(href, label)| {
                    let cls = if *href == active { " class=\"on\"" } else { "" };
                    format!("<a href=\"{href}\"{cls}>{label}</a>")
                })
                .collect();
            format!(
                "<nav>{links}<span class=\"who\">{}（{} · {}）</span>\
                 <form method=\"post\" action=\"/logout\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>退出</button></form></nav>",
                esc(&s.display_name),
                s.role.chinese(),
                esc(&crate::regions::name(&s.region_code).map(str::to_string).unwrap_or_else(|| s.region_code.clone())),
                esc(csrf)
            )
        }
    };
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · 医保经办服务评价</title><link rel=\"stylesheet\" href=\"/assets/dashboard.css\"></head>\
         <body><header><h1>医保经办服务评价 · 管理平台</h1>{nav}</header><main>{body}</main></body></html>",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_in_data_is_text() {
        assert_eq!(super::esc("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
        assert_eq!(super::url("铁岭 a&b"), "%E9%93%81%E5%B2%AD%20a%26b");
    }
}
