//! 评价任务 (issue #12): the bureau commissions an evaluation — a registry hall in the user's
//! region, a rubric, a certified lead and at least the rubric's number of certified assessors,
//! the planned days — and edits its panel and days later. Auditors read; the hall and rubric of
//! an assignment stay as made (inspections started from it name them).

// A refusal is a whole page, as in pages.rs.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use hallmark_core::builtin;

use crate::commissions::{CertifiedDevice, Commission, CommissionForm, Commissions, Refused, RegistryHall};
use crate::html::{esc, frame, url};
use crate::pages::{audit, check_csrf, page, refusal, rubric, rubric_title, signed_in, Kind, St, Who};
use crate::{regions, Dashboard};

fn desk(d: &Dashboard) -> Result<Arc<dyn Commissions>, Response> {
    d.commissions.clone().ok_or_else(|| refusal(StatusCode::NOT_FOUND, None, "未启用", "本服务器未提供评价任务管理。"))
}

fn may_edit(who: &Who) -> Result<(), Response> {
    if who.staff.may_edit() {
        Ok(())
    } else {
        Err(refusal(StatusCode::FORBIDDEN, Some(who), "无权操作", "审计账号只能查看，不能新建或修改评价任务。"))
    }
}

/// Whether the user sees an assignment: its hall in their region (one made without a registry
/// hall: province users only).
fn sees(who: &Who, c: &Commission, halls: &HashMap<String, RegistryHall>) -> bool {
    match c.hall_id.as_ref().and_then(|h| halls.get(h)) {
        Some(h) => who.staff.sees(&h.region_code),
        None => who.staff.role == hallmark_province::staff::Role::Province,
    }
}

/// The panel size the rubric's current version asks for (0: a rubric not shipped).
fn min_assessors(rubric_id: &str) -> u32 {
    builtin::SHIPPED.iter().find(|s| s.id == rubric_id).and_then(|s| rubric(s.id, s.version)).map(|r| r.result.min_assessors).unwrap_or(0)
}

fn err(e: String) -> Response {
    crate::pages::internal(e)
}

/// The form, new (`None`) or editing.
fn form(who: &Who, halls: &[RegistryHall], devices: &[CertifiedDevice], current: Option<&Commission>) -> String {
    let action = match current {
        Some(c) => format!("/assignments/{}", url(&c.id)),
        None => "/assignments".into(),
    };
    let mut o =
        format!("<form method=\"post\" action=\"{action}\" class=\"stack wide\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(&who.csrf));
    match current {
        Some(c) => o.push_str(&format!(
            "<p>任务编号 <b>{}</b> · {} · {}（服务大厅与评价标准创建后不可更改）</p>",
            esc(&c.id),
            esc(&c.site),
            esc(&rubric_title(&c.rubric_id))
        )),
        None => {
            o.push_str("<label>任务编号（留空自动生成）<input name=\"id\" pattern=\"[A-Za-z0-9._-]{0,60}\"></label><label>服务大厅<select name=\"hall\" required><option value=\"\">请选择</option>");
            for h in halls.iter().filter(|h| who.staff.sees(&h.region_code)) {
                o.push_str(&format!("<option value=\"{}\">{} · {}</option>", esc(&h.id), esc(&regions::city_of(&h.region_code)), esc(&h.name)));
            }
            o.push_str("</select></label><label>评价标准<select name=\"rubric\">");
            for s in builtin::ALL.iter().filter_map(|(file, text)| hallmark_core::rubric::Rubric::load(file, text).ok()) {
                o.push_str(&format!("<option value=\"{}\">{}（第{}版）</option>", esc(&s.id), esc(&s.title), esc(&s.version)));
            }
            o.push_str("</select></label>");
        }
    }
    let lead_now = current.map(|c| c.lead_key.as_str()).unwrap_or("");
    o.push_str("<label>评价组长<select name=\"lead\" required><option value=\"\">请选择</option>");
    for d in devices.iter().filter(|d| d.lead) {
        let sel = if d.key == lead_now { " selected" } else { "" };
        o.push_str(&format!("<option value=\"{}\"{sel}>{}（{}，证书至 {}）</option>", esc(&d.key), esc(&d.name), esc(&d.unit), esc(&d.valid_until)));
    }
    o.push_str("</select></label><fieldset><legend>评价人员（已登记设备）</legend>");
    for d in devices.iter().filter(|d| d.assessor) {
        let on = current.is_some_and(|c| c.members.iter().any(|(k, _)| *k == d.key));
        o.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"member_{}\" value=\"1\"{}> {}（{}）</label>",
            esc(&d.key),
            if on { " checked" } else { "" },
            esc(&d.name),
            esc(&d.unit)
        ));
    }
    if !devices.iter().any(|d| d.assessor) {
        o.push_str("<p class=\"hint\">还没有评价人员的平板在本服务器出示过证书（平板登记并同步一次后出现在这里）。</p>");
    }
    let (from, to) = current.and_then(|c| c.planned.clone()).unwrap_or_default();
    o.push_str(&format!(
        "</fieldset><label>计划评价日期 <input type=\"date\" name=\"from\" value=\"{}\"> 至 <input type=\"date\" name=\"to\" value=\"{}\"></label><button type=\"submit\">{}</button></form>",
        esc(&from),
        esc(&to),
        if current.is_some() { "保存修改" } else { "创建评价任务" }
    ));
    o
}

fn list_page(d: &Dashboard, who: &Who, notice: &str) -> Result<Response, Response> {
    let desk = desk(d)?;
    let halls = desk.halls().map_err(err)?;
    let by_id: HashMap<String, RegistryHall> = halls.iter().map(|h| (h.id.clone(), h.clone())).collect();
    let devices = desk.devices().map_err(err)?;
    let names: HashMap<&str, &str> = devices.iter().map(|d| (d.key.as_str(), d.name.as_str())).collect();
    let mut body = String::from("<h2>评价任务</h2>");
    if !notice.is_empty() {
        body.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", esc(notice)));
    }
    body.push_str("<table><thead><tr><th>任务编号</th><th>服务大厅</th><th>评价标准</th><th>评价组长</th><th>评价人员</th><th>计划日期</th><th>创建时间</th></tr></thead><tbody>");
    let mut shown = 0;
    for c in desk.list().map_err(err)?.iter().filter(|c| sees(who, c, &by_id)) {
        shown += 1;
        let members: Vec<String> = c.members.iter().map(|(_, n)| esc(n)).collect();
        let min = min_assessors(&c.rubric_id);
        let short = if (c.members.len() as u32) < min { format!(" <span class=\"lapsed\">（少于 {min} 人）</span>") } else { String::new() };
        body.push_str(&format!(
            "<tr><td><a href=\"/assignments/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}{short}</td><td>{}</td><td>{}</td></tr>",
            url(&c.id),
            esc(&c.id),
            esc(&c.site),
            esc(&rubric_title(&c.rubric_id)),
            esc(names.get(c.lead_key.as_str()).copied().unwrap_or("（未出示证书的设备）")),
            members.join("、"),
            c.planned.as_ref().map(|(a, b)| format!("{} 至 {}", esc(a), esc(b))).unwrap_or_else(|| "—".into()),
            esc(c.created_at.get(..10).unwrap_or(""))
        ));
    }
    if shown == 0 {
        body.push_str("<tr><td colspan=\"7\" class=\"empty\">您的管辖区域内还没有评价任务。</td></tr>");
    }
    body.push_str("</tbody></table>");
    if who.staff.may_edit() {
        body.push_str(&format!("<section><h3>新建评价任务</h3>{}</section>", form(who, &halls, &devices, None)));
    }
    Ok(page(StatusCode::OK, frame("评价任务", Some((&who.staff, &who.csrf)), "/assignments", &body)))
}

pub(crate) async fn list(State(d): St, headers: HeaderMap) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::Page, move |_, who| list_page(&d2, who, "")).await
}

fn find(d: &Dashboard, who: &Who, id: &str) -> Result<(Commission, Vec<RegistryHall>, Vec<CertifiedDevice>), Response> {
    let desk = desk(d)?;
    let halls = desk.halls().map_err(err)?;
    let by_id: HashMap<String, RegistryHall> = halls.iter().map(|h| (h.id.clone(), h.clone())).collect();
    let Some(c) = desk.list().map_err(err)?.into_iter().find(|c| c.id == id) else {
        return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未找到", &format!("没有编号为“{id}”的评价任务。")));
    };
    if !sees(who, &c, &by_id) {
        return Err(refusal(StatusCode::FORBIDDEN, Some(who), "无权查看", "该评价任务的服务大厅不在您的管辖区域内。"));
    }
    Ok((c, halls, desk.devices().map_err(err)?))
}

pub(crate) async fn edit(State(d): St, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::Page, move |_, who| {
        let (c, halls, devices) = find(&d2, who, &id)?;
        let body = if who.staff.may_edit() {
            format!(
                "<h2>修改评价任务</h2><p><a href=\"/assignments\">← 返回评价任务</a></p><section>{}</section>",
                form(who, &halls, &devices, Some(&c))
            )
        } else {
            let members: Vec<String> = c.members.iter().map(|(_, n)| esc(n)).collect();
            format!(
                "<h2>评价任务 {}</h2><p><a href=\"/assignments\">← 返回评价任务</a></p><section><p>{} · {}</p><p>评价人员：{}</p></section>",
                esc(&c.id),
                esc(&c.site),
                esc(&rubric_title(&c.rubric_id)),
                members.join("、")
            )
        };
        Ok(page(StatusCode::OK, frame("评价任务", Some((&who.staff, &who.csrf)), "/assignments", &body)))
    })
    .await
}

/// The form's fields checked: who may lead and assess, enough assessors for the rubric, days
/// that exist in order. Returns the form and the members' names.
fn checked(
    who: &Who,
    f: &HashMap<String, String>,
    devices: &[CertifiedDevice],
    rubric_id: &str,
) -> Result<(CommissionForm, Vec<(String, String)>), Response> {
    let bad = |m: String| refusal(StatusCode::UNPROCESSABLE_ENTITY, Some(who), "无法保存评价任务", &m);
    let get = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let lead = get("lead");
    let Some(lead_device) = devices.iter().find(|d| d.key == lead && d.lead) else {
        return Err(bad("请选择评价组长：须为持有评价组长证书的已登记设备。".into()));
    };
    let _ = lead_device;
    let mut names = Vec::new();
    for (k, v) in f {
        if let Some(key) = k.strip_prefix("member_") {
            if v != "1" {
                continue;
            }
            match devices.iter().find(|d| d.key == key && d.assessor) {
                Some(d) => names.push((d.key.clone(), d.name.clone())),
                None => return Err(bad("所选评价人员中有未持评价人员证书的设备，请刷新页面后重选。".into())),
            }
        }
    }
    names.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let min = min_assessors(rubric_id).max(1);
    if (names.len() as u32) < min {
        return Err(bad(format!("该评价标准要求评价组至少 {min} 名评价人员，当前选择了 {} 名。", names.len())));
    }
    let (from, to) = (get("from"), get("to"));
    let planned = match (from.is_empty(), to.is_empty()) {
        (true, true) => None,
        (false, false) => {
            let day = |s: &str| hallmark_core::date::parse_date(s).map_err(|_| bad(format!("日期“{s}”无效，请按 年-月-日 填写。")));
            if day(&from)? > day(&to)? {
                return Err(bad("计划开始日期晚于结束日期。".into()));
            }
            Some((from, to))
        }
        _ => return Err(bad("计划日期须同时填写开始和结束日期，或都不填。".into())),
    };
    let form = CommissionForm {
        id: get("id"),
        hall_id: get("hall"),
        rubric_id: rubric_id.to_string(),
        lead_key: lead,
        members: names.iter().map(|(k, _)| k.clone()).collect(),
        planned,
    };
    Ok((form, names))
}

pub(crate) async fn create(State(d): St, headers: HeaderMap, Form(f): Form<HashMap<String, String>>) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::Page, move |db, who| {
        check_csrf(who, f.get("csrf").map(String::as_str).unwrap_or(""))?;
        may_edit(who)?;
        let desk = desk(&d2)?;
        let bad = |m: String| refusal(StatusCode::UNPROCESSABLE_ENTITY, Some(who), "无法保存评价任务", &m);
        let hall_id = f.get("hall").map(|h| h.trim().to_string()).unwrap_or_default();
        let Some(hall) = desk.halls().map_err(err)?.into_iter().find(|h| h.id == hall_id) else {
            return Err(bad("请选择服务大厅（须为服务大厅名册中的一家）。".into()));
        };
        if !who.staff.sees(&hall.region_code) {
            return Err(refusal(StatusCode::FORBIDDEN, Some(who), "无权操作", "该服务大厅不在您的管辖区域内。"));
        }
        let rubric_id = f.get("rubric").cloned().unwrap_or_default();
        if !builtin::SHIPPED.iter().any(|s| s.id == rubric_id) {
            return Err(bad(format!("评价标准“{rubric_id}”不存在。")));
        }
        let (mut form, names) = checked(who, &f, &desk.devices().map_err(err)?, &rubric_id)?;
        if form.id.is_empty() {
            form.id = format!("{}-{}", hall.id, crate::today().replace('-', ""));
        }
        if !form.id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) || form.id.len() > 60 {
            return Err(bad(format!("任务编号“{}”只能包含字母、数字和 . _ -（最多 60 个字符）。", form.id)));
        }
        match desk.add(&form, &names) {
            Ok(()) => {}
            Err(Refused::Exists) => return Err(bad(format!("任务编号“{}”已被使用，请换一个。", form.id))),
            Err(Refused::UnknownHall) => return Err(bad("该服务大厅不在服务器的名册中。".into())),
            Err(Refused::Missing) | Err(Refused::Other(_)) => return Err(err("the server did not take the assignment".into())),
        }
        audit(db, who, "创建评价任务", &form.id)?;
        list_page(&d2, who, &format!("已创建评价任务 {}：{}，评价人员 {} 名。", form.id, hall.name, names.len()))
    })
    .await
}

pub(crate) async fn update(State(d): St, headers: HeaderMap, Path(id): Path<String>, Form(f): Form<HashMap<String, String>>) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::Page, move |db, who| {
        check_csrf(who, f.get("csrf").map(String::as_str).unwrap_or(""))?;
        may_edit(who)?;
        let (c, _, devices) = find(&d2, who, &id)?;
        let (mut form, names) = checked(who, &f, &devices, &c.rubric_id)?;
        form.id = c.id.clone();
        form.hall_id = c.hall_id.clone().unwrap_or_default();
        match desk(&d2)?.update(&form, &names) {
            Ok(()) => {}
            Err(Refused::Missing) => return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未找到", &format!("没有编号为“{id}”的评价任务。"))),
            Err(_) => return Err(err("the server did not take the change".into())),
        }
        audit(db, who, "修改评价任务", &c.id)?;
        list_page(&d2, who, &format!("已保存评价任务 {} 的修改。", c.id))
    })
    .await
}
