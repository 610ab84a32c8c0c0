//! The dashboard's routes. Each handler runs on tokio's blocking pool with one pooled
//! connection: it finds the session, checks the role and the hall's 行政区划 against the
//! user's, writes the audit line, and renders. Anonymous page requests go to 登录; anonymous
//! file requests get 401; a hall outside the user's region is 403; what does not exist is 404.

// A refusal is a whole page: handlers return `Result<_, Response>` as axum's own extractors do.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hallmark_core::rubric::Rubric;
use hallmark_province::dashboard as q;
use hallmark_province::staff::{self, Role, Staff};
use postgres::Client;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::access;
use crate::charts;
use crate::html::{self, esc, frame, url};
use crate::regions;
use crate::Dashboard;

pub(crate) type St = State<Arc<Dashboard>>;

const CSS: &str = include_str!("dashboard.css");
/// Rows per page of the halls table.
pub const PAGE: i64 = 50;

/// The dashboard's routes, to merge into the server's.
pub fn router(d: Arc<Dashboard>) -> Router {
    Router::new()
        .route("/", get(|| async { see_other("/halls") }))
        .route("/assets/dashboard.css", get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS) }))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/halls", get(halls))
        .route("/halls/{id}", get(hall))
        .route("/halls/{id}/photos/{sha256}", get(photo))
        .route("/halls/{id}/thumbs/{sha256}", get(thumb))
        .route("/reports/{number}/pdf", get(report_pdf))
        .route("/reports/{number}/sidecar", get(report_sidecar))
        .route("/reports/{number}/verification", get(report_verification))
        .route("/due", get(due))
        .route("/due.xlsx", get(due_xlsx))
        .route("/items", get(items))
        .route("/items/{item}", get(item_halls))
        .route("/staff", get(staff_page).post(staff_create))
        .route("/staff/{username}/{action}", post(staff_change))
        .route("/audit", get(audit_log_page))
        .route("/assignments", get(crate::assignments::list).post(crate::assignments::create))
        .route("/assignments/{id}", get(crate::assignments::edit).post(crate::assignments::update))
        .layer(axum::middleware::map_response(secure_headers))
        .layer(axum::middleware::from_fn(server_timing))
        .with_state(d)
}

/// `Server-Timing: app;dur=MS`: the time the server spent on a request, rendering included
/// (pages are built whole before they are sent) — what scripts/bench-dashboard.sh measures.
async fn server_timing(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut r = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        r.headers_mut().insert("server-timing", v);
    }
    r
}

async fn secure_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    r
}

pub(crate) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

pub(crate) fn page(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A page that says what went wrong, in Chinese.
pub(crate) fn refusal(status: StatusCode, who: Option<&Who>, title: &str, message: &str) -> Response {
    let body =
        format!("<section class=\"refusal\"><h2>{}</h2><p>{}</p><p><a href=\"/halls\">返回服务大厅列表</a></p></section>", esc(title), esc(message));
    page(status, frame(title, who.map(|w| (&w.staff, w.csrf.as_str())), "", &body))
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    eprintln!("hallmark dashboard: internal error: {e}");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        frame("服务器错误", None, "", "<section class=\"refusal\"><h2>服务器错误</h2><p>服务器暂时无法完成请求，请稍后再试；问题持续时请联系管理员（详情见服务器日志）。</p></section>"),
    )
}

/// The signed-in user and their session's CSRF token.
pub struct Who {
    pub staff: Staff,
    pub csrf: String,
    token_sha256: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Anonymous: to 登录.
    Page,
    /// Anonymous: 401.
    File,
}

/// Runs `f` on the blocking pool with a connection and the session's user.
pub(crate) async fn signed_in<F>(d: Arc<Dashboard>, headers: HeaderMap, kind: Kind, f: F) -> Response
where
    F: FnOnce(&mut Client, &Who) -> Result<Response, Response> + Send + 'static,
{
    // No session cookie: answered without touching the database.
    if headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(access::cookie_token).is_none() {
        return match kind {
            Kind::Page => see_other("/login"),
            Kind::File => refusal(StatusCode::UNAUTHORIZED, None, "请先登录", "登录后才能查看此文件。"),
        };
    }
    tokio::task::spawn_blocking(move || {
        let mut db = match d.pool.get() {
            Ok(c) => c,
            Err(e) => return internal(e),
        };
        let who = match session(&mut db, &headers) {
            Ok(Some(w)) => w,
            Ok(None) if kind == Kind::Page => return see_other("/login"),
            Ok(None) => return refusal(StatusCode::UNAUTHORIZED, None, "请先登录", "登录后才能查看此文件。"),
            Err(e) => return internal(e),
        };
        f(&mut db, &who).unwrap_or_else(|r| r)
    })
    .await
    .unwrap_or_else(internal)
}

fn session(db: &mut Client, headers: &HeaderMap) -> Result<Option<Who>, String> {
    let Some(token) = headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(access::cookie_token) else {
        return Ok(None);
    };
    let token_sha256 = access::token_sha256(token);
    Ok(staff::session(db, &token_sha256).map_err(|e| e.to_string())?.map(|(staff, csrf)| Who { staff, csrf, token_sha256 }))
}

/// A blob that cannot be read: the object store down is 503 (try again), anything else 500.
fn evidence_err(who: &Who, e: hallmark_province::RecordsError) -> Response {
    let m = e.to_string();
    if m.starts_with("object store") {
        eprintln!("hallmark dashboard: {m}");
        refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(who),
            "证据存储暂时不可用",
            "照片与报告文件所在的对象存储暂时无法访问，请稍后再试；数据没有丢失。",
        )
    } else {
        internal(m)
    }
}

pub(crate) fn db_err(e: impl std::fmt::Display) -> Response {
    internal(e)
}

pub(crate) fn audit(db: &mut Client, who: &Who, action: &str, target: &str) -> Result<(), Response> {
    staff::audit(db, &who.staff.username, action, target).map_err(db_err)
}

/// A form's CSRF token must be the session's.
pub(crate) fn check_csrf(who: &Who, sent: &str) -> Result<(), Response> {
    if access::same_token(&who.csrf, sent) {
        Ok(())
    } else {
        Err(refusal(StatusCode::FORBIDDEN, Some(who), "请求无效", "表单已过期或不是从本页面提交的：请刷新页面后重试。"))
    }
}

fn forbidden_hall(who: &Who) -> Response {
    refusal(StatusCode::FORBIDDEN, Some(who), "无权查看", "该服务大厅不在您的管辖区域内。")
}

/// The hall, if it exists and the user may see it.
fn visible_hall(db: &mut Client, who: &Who, id: &str) -> Result<hallmark_province::load::HallRecord, Response> {
    let Some(h) = q::hall(db, id).map_err(db_err)? else {
        return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未找到", &format!("没有编号为“{id}”的服务大厅。")));
    };
    if !who.staff.sees(&h.region_code) {
        return Err(forbidden_hall(who));
    }
    Ok(h)
}

/// Rubrics by id and version (the shipped texts), loaded once.
pub(crate) fn rubric(id: &str, version: &str) -> Option<Arc<Rubric>> {
    type Cache = Mutex<HashMap<(String, String), Option<Arc<Rubric>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry((id.to_string(), version.to_string()))
        .or_insert_with(|| {
            let s = hallmark_core::builtin::find(id, version)?;
            Rubric::load(s.file, s.text).ok().map(Arc::new)
        })
        .clone()
}

pub(crate) fn rubric_title(id: &str) -> String {
    hallmark_core::builtin::SHIPPED
        .iter()
        .find(|s| s.id == id)
        .and_then(|s| rubric(s.id, s.version))
        .map(|r| r.title.clone())
        .unwrap_or_else(|| id.to_string())
}

/// "3.(2) 服务设施" for an item, from whichever rubric names it.
fn item_name(rubrics: &[Arc<Rubric>], item: &str) -> String {
    for r in rubrics {
        if let Some(i) = r.item.iter().find(|i| i.id == item) {
            return match &i.number {
                Some(n) => format!("{n} {}", i.name),
                None => i.name.clone(),
            };
        }
    }
    item.to_string()
}

/// An item's place in the rubric that names it (unknown items last, by id).
fn item_order(rubrics: &[Arc<Rubric>], item: &str) -> (usize, String) {
    let at = rubrics.iter().find_map(|r| r.item.iter().position(|i| i.id == item)).unwrap_or(usize::MAX);
    (at, item.to_string())
}

/// A decimal as the report prints it ("90.20" → "90.2", "4.00" → "4").
fn n(s: &str) -> String {
    Decimal::from_str(s).map(|d| d.normalize().to_string()).unwrap_or_else(|_| s.to_string())
}

fn n_opt(s: Option<&str>) -> String {
    s.map(n).unwrap_or_else(|| "—".into())
}

fn rubrics_of(db: &mut Client, region: &str) -> Result<Vec<Arc<Rubric>>, Response> {
    Ok(q::rubrics_used(db, region).map_err(db_err)?.iter().rev().filter_map(|(id, v)| rubric(id, v)).collect())
}

/// The region a page shows: the user's, narrowed to a city when one is asked for inside it.
fn region_for(who: &Who, city: Option<&str>) -> String {
    let mine = who.staff.region_prefix().to_string();
    match city.filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())) {
        Some(c) => {
            let p = staff::prefix_of(c).to_string();
            if p.starts_with(&mine) {
                p
            } else {
                mine
            }
        }
        None => mine,
    }
}

pub(crate) fn region_label(code: &str) -> String {
    regions::name(code).map(str::to_string).unwrap_or_else(|| code.to_string())
}

fn city_select(db: &mut Client, who: &Who, chosen: Option<&str>) -> Result<String, Response> {
    let mut o = String::from("<option value=\"\">全部地市</option>");
    for c in q::cities(db, who.staff.region_prefix()).map_err(db_err)? {
        let sel = if chosen == Some(c.as_str()) { " selected" } else { "" };
        o.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", esc(&c), esc(&region_label(&c))));
    }
    Ok(format!("<select name=\"city\" aria-label=\"地市\">{o}</select>"))
}

pub(crate) fn select(name: &str, label: &str, options: &[(&str, &str)], chosen: &str) -> String {
    let mut o = String::new();
    for (v, l) in options {
        let sel = if *v == chosen { " selected" } else { "" };
        o.push_str(&format!("<option value=\"{}\"{sel}>{}</option>", esc(v), esc(l)));
    }
    format!("<select name=\"{name}\" aria-label=\"{label}\">{o}</select>")
}

// ---------------------------------------------------------------------------------------------
// 登录

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

fn login_page(status: StatusCode, message: &str) -> Response {
    let msg = if message.is_empty() { String::new() } else { format!("<p class=\"error\" role=\"alert\">{}</p>", esc(message)) };
    page(
        status,
        frame(
            "登录",
            None,
            "",
            &format!(
                "<section class=\"login\"><h2>工作人员登录</h2>{msg}<form method=\"post\" action=\"/login\">\
                 <label>用户名<input name=\"username\" autocomplete=\"username\" required autofocus></label>\
                 <label>密码<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
                 <button type=\"submit\">登录</button></form>\
                 <p class=\"hint\">账号由省级管理员开通；忘记密码请联系管理员重置。</p></section>"
            ),
        ),
    )
}

async fn login_form(State(d): St, headers: HeaderMap) -> Response {
    if headers.get(header::COOKIE).and_then(|v| v.to_str().ok()).and_then(access::cookie_token).is_none() {
        return login_page(StatusCode::OK, "");
    }
    tokio::task::spawn_blocking(move || {
        let mut db = d.pool.get().map_err(internal)?;
        Ok::<_, Response>(match session(&mut db, &headers).map_err(internal)? {
            Some(_) => see_other("/halls"),
            None => login_page(StatusCode::OK, ""),
        })
    })
    .await
    .unwrap_or_else(|e| Err(internal(e)))
    .unwrap_or_else(|r| r)
}

/// A form posted from another site is refused (the browser's Origin says where it came from).
fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => origin.split_once("://").is_some_and(|(_, h)| h == host),
    }
}

async fn login(State(d): St, headers: HeaderMap, Form(f): Form<LoginForm>) -> Response {
    if !same_origin(&headers) {
        return login_page(StatusCode::FORBIDDEN, "登录请求不是从本站提交的，已拒绝。");
    }
    tokio::task::spawn_blocking(move || {
        let username = f.username.trim().to_lowercase();
        if !access::plausible_username(&username) || f.password.len() > 1024 {
            return login_page(StatusCode::UNAUTHORIZED, "用户名或密码错误，或账号已停用。");
        }
        if let Err(wait) = d.login_limit.attempt(&username) {
            return login_page(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("该账号登录失败次数过多，已暂时锁定，请 {} 分钟后再试。", wait.as_secs().div_ceil(60)),
            );
        }
        let mut db = match d.pool.get() {
            Ok(c) => c,
            Err(e) => return internal(e),
        };
        let found = match staff::find(&mut db, &username) {
            Ok(f) => f,
            Err(e) => return internal(e),
        };
        let ok = match &found {
            Some((s, hash)) => access::password_matches(&f.password, hash) && !s.disabled,
            None => {
                access::password_matches(&f.password, access::decoy_hash());
                false
            }
        };
        if !ok {
            let _ = staff::audit(&mut db, &username, "登录失败", "");
            return login_page(StatusCode::UNAUTHORIZED, "用户名或密码错误，或账号已停用。");
        }
        d.login_limit.succeeded(&username);
        let (token, csrf) = match (access::token(), access::token()) {
            (Ok(t), Ok(c)) => (t, c),
            (Err(e), _) | (_, Err(e)) => return internal(e),
        };
        if let Err(e) = staff::start_session(&mut db, &access::token_sha256(&token), &username, &csrf, access::SESSION_HOURS) {
            return internal(e);
        }
        let _ = staff::audit(&mut db, &username, "登录", "");
        let secure = if d.secure_cookies { "; Secure" } else { "" };
        let cookie = format!("{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}", access::COOKIE, access::SESSION_HOURS * 3600);
        let mut r = see_other("/halls");
        r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
        r
    })
    .await
    .unwrap_or_else(internal)
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(d): St, headers: HeaderMap, Form(f): Form<CsrfForm>) -> Response {
    signed_in(d.clone(), headers, Kind::Page, move |db, who| {
        check_csrf(who, &f.csrf)?;
        staff::end_session(db, &who.token_sha256).map_err(db_err)?;
        audit(db, who, "退出", "")?;
        let secure = if d.secure_cookies { "; Secure" } else { "" };
        let mut r = see_other("/login");
        let cookie = format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}", access::COOKIE);
        r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
        Ok(r)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// 服务大厅

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct HallQuery {
    q: String,
    city: String,
    level: String,
    rubric: String,
    result: String,
    due: String,
    sort: String,
    desc: String,
    page: String,
}

impl HallQuery {
    /// This query with one field changed, as a link.
    fn link(&self, change: &[(&str, &str)]) -> String {
        let mut fields: BTreeMap<&str, String> = [
            ("q", self.q.clone()),
            ("city", self.city.clone()),
            ("level", self.level.clone()),
            ("rubric", self.rubric.clone()),
            ("result", self.result.clone()),
            ("due", self.due.clone()),
            ("sort", self.sort.clone()),
            ("desc", self.desc.clone()),
            ("page", self.page.clone()),
        ]
        .into_iter()
        .collect();
        for (k, v) in change {
            fields.insert(k, v.to_string());
        }
        let parts: Vec<String> = fields.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", url(v))).collect();
        format!("/halls?{}", parts.join("&"))
    }
}

async fn halls(State(d): St, headers: HeaderMap, Query(hq): Query<HallQuery>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        let page_no = hq.page.parse::<i64>().unwrap_or(1).clamp(1, 1_000_000);
        let sort = q::HallSort::parse(&hq.sort);
        let filter = q::HallFilter {
            region: region_for(who, Some(&hq.city)),
            level: hq.level.clone(),
            rubric: hq.rubric.clone(),
            outcome: hq.result.clone(),
            search: hq.q.trim().to_string(),
            due_within: hq.due.parse::<i32>().ok().map(|d| d.clamp(0, 3650)),
            today: crate::today(),
            sort,
            descending: hq.desc == "1",
            limit: PAGE,
            offset: (page_no - 1) * PAGE,
        };
        let (rows, total) = q::halls_page(db, &filter).map_err(db_err)?;
        let pages = ((total + PAGE - 1) / PAGE).max(1);
        let rubrics: Vec<(String, String)> = q::rubrics_used(db, who.staff.region_prefix()).map_err(db_err)?;
        let mut rubric_ids: Vec<String> = rubrics.into_iter().map(|(id, _)| id).collect();
        rubric_ids.dedup();
        let mut rubric_opts: Vec<(String, String)> = vec![(String::new(), "全部评价标准".into())];
        rubric_opts.extend(rubric_ids.iter().map(|id| (id.clone(), rubric_title(id))));
        let rubric_opts: Vec<(&str, &str)> = rubric_opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let filters = format!(
            "<form class=\"filters\" method=\"get\" action=\"/halls\">\
             <input name=\"q\" value=\"{}\" placeholder=\"名称或编号\" aria-label=\"搜索\">{}{}{}{}{}\
             <input type=\"hidden\" name=\"sort\" value=\"{}\"><input type=\"hidden\" name=\"desc\" value=\"{}\">\
             <button type=\"submit\">筛选</button> <a href=\"/halls\">清除</a></form>",
            esc(&hq.q),
            city_select(db, who, Some(&hq.city))?,
            select(
                "level",
                "层级",
                &[("", "全部层级"), ("province", "省级"), ("city", "市级"), ("county", "县级"), ("township", "乡镇（街道）")],
                &hq.level
            ),
            select("rubric", "评价标准", &rubric_opts, &hq.rubric),
            select(
                "result",
                "结论",
                &[("", "全部结论"), ("pass", "合格"), ("fail", "不合格"), ("vetoed", "否决"), ("insufficient", "评价人员不足"), ("none", "未评价")],
                &hq.result
            ),
            select("due", "到期", &[("", "不限有效期"), ("30", "30天内到期或已过期"), ("90", "90天内到期或已过期"), ("0", "今天到期或已过期")], &hq.due),
            esc(&hq.sort),
            esc(&hq.desc),
        );
        let head = |key: q::HallSort, label: &str| {
            let on = sort == key;
            let desc = if on && hq.desc != "1" { "1" } else { "" };
            let mark = match (on, hq.desc == "1") {
                (true, true) => " ▼",
                (true, false) => " ▲",
                _ => "",
            };
            format!("<th><a href=\"{}\">{label}{mark}</a></th>", esc(&hq.link(&[("sort", key.as_str()), ("desc", desc), ("page", "")])))
        };
        let mut table = format!(
            "<table class=\"halls\"><thead><tr>{}{}<th>层级</th><th>评价标准</th>{}<th>结论</th>{}{}<th>评价人数</th></tr></thead><tbody>",
            head(q::HallSort::Name, "服务大厅"),
            head(q::HallSort::Region, "行政区划"),
            head(q::HallSort::Score, "最近得分"),
            head(q::HallSort::Signed, "报告日期"),
            head(q::HallSort::ValidUntil, "有效期至"),
        );
        let today = crate::today();
        let mut last_city = String::new();
        for r in &rows {
            let l = &r.latest;
            // Sorted by 行政区划: a heading row where the city changes.
            let city = regions::city_of(&l.region_code);
            if sort == q::HallSort::Region && city != last_city {
                table.push_str(&format!("<tr class=\"group\"><th colspan=\"9\">{}</th></tr>", esc(&city)));
                last_city = city;
            }
            let lapsed = l.valid_until.as_deref().is_some_and(|v| v < today.as_str());
            table.push_str(&format!(
                "<tr><td><a href=\"/halls/{}\">{}</a><div class=\"sub\">{}</div></td><td>{}<div class=\"sub\">{}</div></td><td>{}</td><td>{}</td>\
                 <td class=\"num\">{}</td><td><span class=\"badge {}\">{}</span></td><td>{}</td><td{}>{}</td><td class=\"num\">{}</td></tr>",
                url(&l.hall_id),
                esc(&l.name),
                esc(&l.hall_id),
                esc(&regions::city_of(&l.region_code)),
                esc(&l.region_code),
                html::level(&r.level),
                esc(&r.rubric_id.as_deref().map(rubric_title).unwrap_or_default()),
                esc(&n_opt(l.final_score.as_deref())),
                l.outcome.as_deref().unwrap_or("none"),
                html::outcome(l.outcome.as_deref()),
                esc(l.signed_on.as_deref().unwrap_or("—")),
                if lapsed { " class=\"lapsed\"" } else { "" },
                esc(l.valid_until.as_deref().unwrap_or("—")),
                l.assessors.map(|a| a.to_string()).unwrap_or_else(|| "—".into()),
            ));
        }
        if rows.is_empty() {
            table.push_str("<tr><td colspan=\"9\" class=\"empty\">没有符合条件的服务大厅。</td></tr>");
        }
        table.push_str("</tbody></table>");
        let prev =
            if page_no > 1 { format!("<a href=\"{}\">上一页</a>", esc(&hq.link(&[("page", &(page_no - 1).to_string())]))) } else { String::new() };
        let next = if page_no < pages {
            format!("<a href=\"{}\">下一页</a>", esc(&hq.link(&[("page", &(page_no + 1).to_string())])))
        } else {
            String::new()
        };
        let body = format!(
            "<h2>服务大厅</h2>{filters}<p class=\"count\">共 {total} 家，第 {page_no} / {pages} 页</p><div class=\"scroll\">{table}</div><p class=\"pager\">{prev} {next}</p>"
        );
        Ok(page(StatusCode::OK, frame("服务大厅", Some((&who.staff, &who.csrf)), "/halls", &body)))
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct HallPageQuery {
    report: String,
}

async fn hall(State(d): St, headers: HeaderMap, Path(id): Path<String>, Query(hq): Query<HallPageQuery>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        let h = visible_hall(db, who, &id)?;
        audit(db, who, "查看服务大厅", &h.id)?;
        let evals = q::evaluations(db, &h.id).map_err(db_err)?;
        let chosen = evals.iter().rposition(|e| e.report_number == hq.report).or(evals.len().checked_sub(1));
        let mut body = format!(
            "<h2>{}</h2><p class=\"meta\">编号 {} · {} {} · {} · {}</p>",
            esc(&h.name),
            esc(&h.id),
            esc(&regions::city_of(&h.region_code)),
            esc(&h.region_code),
            html::level(&h.level),
            esc(&h.address)
        );
        let Some(at) = chosen else {
            body.push_str("<p class=\"empty\">尚无评价记录。</p>");
            return Ok(page(StatusCode::OK, frame(&h.name, Some((&who.staff, &who.csrf)), "/halls", &body)));
        };
        let e = &evals[at];
        let r = rubric(&e.rubric_id, &e.rubric_version);
        let rubrics: Vec<Arc<Rubric>> = r.iter().cloned().collect();
        let pass_at = r.as_ref().and_then(|r| r.result.pass_at).map(|p| p.get().normalize().to_string());
        // 历次评价
        let points: Vec<(String, Option<String>)> = evals.iter().map(|e| (e.visited_on.clone(), e.final_score.clone())).collect();
        body.push_str(&format!("<section><h3>历次评价</h3>{}", charts::score_plot(&points, pass_at.as_deref())));
        body.push_str("<table><thead><tr><th>报告编号</th><th>评价标准</th><th>评价日期</th><th>报告日期</th><th>得分</th><th>结论</th><th>有效期至</th><th>评价人数</th></tr></thead><tbody>");
        for (i, ev) in evals.iter().enumerate().rev() {
            let cls = if i == at { " class=\"chosen\"" } else { "" };
            let mut replaces = ev.replaces.as_deref().map(|r| format!("<div class=\"sub\">更正 {}</div>", esc(r))).unwrap_or_default();
            if let Some(by) = &ev.replaced_by {
                replaces.push_str(&format!("<div class=\"sub lapsed\">已被 {} 更正</div>", esc(by)));
            }
            body.push_str(&format!(
                "<tr{cls}><td><a href=\"/halls/{}?report={}\">{}</a>{replaces}</td><td>{} 第{}版</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td><span class=\"badge {}\">{}</span></td><td>{}</td><td class=\"num\">{}</td></tr>",
                url(&h.id),
                url(&ev.report_number),
                esc(&ev.report_number),
                esc(&rubric_title(&ev.rubric_id)),
                esc(&ev.rubric_version),
                esc(&ev.visited_on),
                esc(&ev.signed_on),
                esc(&n_opt(ev.final_score.as_deref())),
                esc(&ev.outcome),
                html::outcome(Some(&ev.outcome)),
                esc(ev.valid_until.as_deref().unwrap_or("—")),
                ev.assessors
            ));
        }
        body.push_str("</tbody></table></section>");
        // 与上次评价比较
        let mut now_items = q::evaluation_items(db, &e.report_number).map_err(db_err)?;
        now_items.sort_by_key(|(i, _, _)| item_order(&rubrics, i));
        body.push_str(&format!("<section><h3>与上次评价比较（{}）</h3>", esc(&e.report_number)));
        match at.checked_sub(1).map(|p| &evals[p]) {
            None => body.push_str("<p class=\"empty\">这是该服务大厅的第一次评价，没有可比较的上次评价。</p>"),
            Some(prev) => {
                let before: HashMap<String, String> = q::evaluation_items(db, &prev.report_number).map_err(db_err)?.into_iter().map(|(i, _, m)| (i, m)).collect();
                body.push_str(&format!(
                    "<p class=\"meta\">上次：{}（{}，{} 分）</p><table><thead><tr><th>评价项目</th><th>分值</th><th>上次平均扣分</th><th>本次平均扣分</th><th>变化</th></tr></thead><tbody>",
                    esc(&prev.report_number),
                    esc(&prev.visited_on),
                    esc(&n_opt(prev.final_score.as_deref()))
                ));
                for (item, max, now) in &now_items {
                    let was = before.get(item).and_then(|b| Decimal::from_str(b).ok());
                    let is = Decimal::from_str(now).unwrap_or_default();
                    let (cls, change) = match was {
                        None => ("", "上次无此项".to_string()),
                        Some(w) if is < w => ("better", format!("改善（少扣 {}）", (w - is).normalize())),
                        Some(w) if is > w => ("worse", format!("变差（多扣 {}）", (is - w).normalize())),
                        Some(_) => ("", "持平".to_string()),
                    };
                    body.push_str(&format!(
                        "<tr class=\"{cls}\"><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                        esc(&item_name(&rubrics, item)),
                        esc(&n(max)),
                        esc(&was.map(|w| w.normalize().to_string()).unwrap_or_else(|| "—".into())),
                        esc(&is.normalize().to_string()),
                        esc(&change)
                    ));
                }
                body.push_str("</tbody></table>");
            }
        }
        body.push_str("</section>");
        // 评价组评分
        let panel = q::panel(db, &e.report_number).map_err(db_err)?;
        body.push_str("<section><h3>评价组评分（逐项对照）</h3>");
        if panel.is_empty() {
            body.push_str("<p class=\"empty\">没有评价人员的评分表。</p>");
        } else {
            body.push_str("<table class=\"panel\"><thead><tr><th>评价项目</th><th>分值</th>");
            for s in &panel {
                body.push_str(&format!("<th>{}</th>", esc(&s.assessor)));
            }
            body.push_str("<th>平均</th><th>σ</th></tr></thead><tbody>");
            let mut items: Vec<(String, String)> = panel.iter().flat_map(|s| s.items.iter().map(|(i, m, _)| (i.clone(), m.clone()))).collect();
            items.sort_by_key(|(i, _)| item_order(&rubrics, i));
            items.dedup();
            for (item, max) in &items {
                let maxd = Decimal::from_str(max).unwrap_or_default();
                let scores: Vec<Option<Decimal>> = panel
                    .iter()
                    .map(|s| s.items.iter().find(|(i, _, _)| i == item).and_then(|(_, _, p)| Decimal::from_str(p).ok()))
                    .collect();
                let sp = hallmark_core::aggregate::spread(item, "", maxd, scores.clone());
                body.push_str(&format!("<tr><td>{}</td><td class=\"num\">{}</td>", esc(&item_name(&rubrics, item)), esc(&n(max))));
                for (k, s) in scores.iter().enumerate() {
                    let cls = if sp.outliers[k] { " class=\"num outlier\" title=\"离群：与其他评价人员平均分相差超过该项分值的四分之一\"" } else { " class=\"num\"" };
                    body.push_str(&format!("<td{cls}>{}</td>", s.map(|v| v.normalize().to_string()).unwrap_or_else(|| "—".into())));
                }
                body.push_str(&format!(
                    "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    sp.mean.map(|m| m.round_dp(2).normalize().to_string()).unwrap_or_else(|| "—".into()),
                    sp.stddev.map(|m| m.to_string()).unwrap_or_else(|| "—".into())
                ));
            }
            body.push_str("<tr class=\"total\"><td>合计</td><td></td>");
            for s in &panel {
                body.push_str(&format!("<td class=\"num\">{}</td>", esc(&n(&s.total))));
            }
            body.push_str(&format!("<td class=\"num\">{}</td><td></td></tr></tbody></table>", esc(&n_opt(e.final_score.as_deref()))));
            body.push_str("<p class=\"hint\">标红为离群评分：与其他评价人员平均分相差超过该项分值的四分之一，请组长复核。</p>");
        }
        body.push_str("</section>");
        // 现场照片
        let mut photos = q::photos(db, &e.report_number).map_err(db_err)?;
        photos.sort_by_key(|p| (item_order(&rubrics, &p.item_id), p.assessor.clone()));
        body.push_str("<section><h3>现场照片</h3>");
        if photos.is_empty() {
            body.push_str("<p class=\"empty\">本次评价没有照片。</p>");
        }
        let mut last_item = "";
        for p in &photos {
            if p.item_id != last_item {
                if !last_item.is_empty() {
                    body.push_str("</div>");
                }
                body.push_str(&format!("<h4>{}</h4><div class=\"photos\">", esc(&item_name(&rubrics, &p.item_id))));
                last_item = &p.item_id;
            }
            let thumb = p.thumb_sha256.as_deref().unwrap_or(&p.sha256);
            body.push_str(&format!(
                "<a href=\"/halls/{}/photos/{}\" target=\"_blank\"><img src=\"/halls/{}/thumbs/{}\" alt=\"{}\" loading=\"lazy\"><span>{} {}</span></a>",
                url(&h.id),
                esc(&p.sha256),
                url(&h.id),
                esc(thumb),
                esc(&p.caption),
                esc(&p.assessor),
                esc(&p.caption)
            ));
        }
        if !last_item.is_empty() {
            body.push_str("</div>");
        }
        body.push_str("</section>");
        // 评价报告
        body.push_str("<section><h3>评价报告</h3>");
        match q::report_files(db, &e.report_number).map_err(db_err)? {
            None => body.push_str("<p class=\"empty\">没有该次评价的签名报告文件（仅有评分数据）。</p>"),
            Some(rf) => {
                let verified = rf.verification.lines().last().unwrap_or("").starts_with("verified");
                body.push_str(&format!(
                    "<p><span class=\"badge {}\">{}</span> 签发人：{} · 入库核验时间：{}</p>\
                     <p><a class=\"button\" href=\"/reports/{n}/pdf\" download>下载报告 PDF</a> \
                     <a class=\"button\" href=\"/reports/{n}/sidecar\" download>下载签名文件（.sig.json）</a></p>\
                     <p><a href=\"/reports/{n}/verification\">重新核验（按服务器当前信任的根证书与吊销列表，从留存的数据包重算）</a></p>\
                     <p class=\"hint\">任何人可用 <code>hallmark verify 报告.pdf --trust 根证书.pem</code> 复核：PDF 未被改动、签名人为省局认证的评价组长。</p>\
                     <details><summary>入库时的核验记录</summary><pre>{}</pre></details>",
                    if verified { "pass" } else { "fail" },
                    if verified { "核验通过" } else { "核验未通过" },
                    esc(&rf.signer),
                    esc(&rf.verified_at),
                    esc(&rf.verification),
                    n = url(&rf.report_number),
                ));
            }
        }
        body.push_str("</section>");
        Ok(page(StatusCode::OK, frame(&h.name, Some((&who.staff, &who.csrf)), "/halls", &body)))
    })
    .await
}

fn jpeg(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response()
}

async fn hall_blob(d: Arc<Dashboard>, headers: HeaderMap, id: String, sha256: String, full: bool) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::File, move |db, who| {
        let h = visible_hall(db, who, &id)?;
        let not_found = || refusal(StatusCode::NOT_FOUND, Some(who), "未找到", "没有这张照片。");
        if !hallmark_core::hex::is_sha256(&sha256) || !q::hall_has_photo(db, &h.id, &sha256).map_err(db_err)? {
            return Err(not_found());
        }
        let bytes = hallmark_province::load::blob(db, &d2.blobs, &sha256).map_err(|e| evidence_err(who, e))?.ok_or_else(not_found)?;
        if full {
            audit(db, who, "查看照片", &format!("{} {}", h.id, sha256))?;
        }
        Ok(jpeg(bytes))
    })
    .await
}

async fn photo(State(d): St, headers: HeaderMap, Path((id, sha256)): Path<(String, String)>) -> Response {
    hall_blob(d, headers, id, sha256, true).await
}

async fn thumb(State(d): St, headers: HeaderMap, Path((id, sha256)): Path<(String, String)>) -> Response {
    hall_blob(d, headers, id, sha256, false).await
}

async fn report_file(d: Arc<Dashboard>, headers: HeaderMap, number: String, pdf: bool) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::File, move |db, who| {
        let Some(rf) = q::report_files(db, &number).map_err(db_err)? else {
            return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未找到", &format!("没有编号为“{number}”的签名报告。")));
        };
        if !who.staff.sees(&rf.region_code) {
            return Err(forbidden_hall(who));
        }
        let ascii: String = rf.report_number.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        if pdf {
            let bytes = hallmark_province::load::blob(db, &d2.blobs, &rf.pdf_sha256)
                .map_err(|e| evidence_err(who, e))?
                .ok_or_else(|| internal("the report's PDF blob is missing"))?;
            audit(db, who, "下载报告PDF", &rf.report_number)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}.pdf\"")),
                ],
                bytes,
            )
                .into_response())
        } else {
            audit(db, who, "下载签名文件", &rf.report_number)?;
            Ok((
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}.pdf.sig.json\"")),
                ],
                rf.sidecar,
            )
                .into_response())
        }
    })
    .await
}

/// 重新核验: the report checked now — its bundles put together from the records, every score
/// recomputed, the signer's and every assessor's certificate against the server's current
/// roots and revocation lists.
async fn report_verification(State(d): St, headers: HeaderMap, Path(number): Path<String>) -> Response {
    let d2 = d.clone();
    signed_in(d, headers, Kind::Page, move |db, who| {
        let Some(rf) = q::report_files(db, &number).map_err(db_err)? else {
            return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未找到", &format!("没有编号为“{number}”的签名报告。")));
        };
        if !who.staff.sees(&rf.region_code) {
            return Err(forbidden_hall(who));
        }
        let Some(source) = &d2.trust else {
            return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未启用", "本服务器未提供重新核验。"));
        };
        let trust = hallmark_report::seal::Trust { store: source().map_err(internal)?, signer_cert: None, now: chrono::Utc::now() };
        let v = crate::intake::reverify(db, &d2.blobs, &number, &trust).map_err(internal)?.ok_or_else(|| internal("held report vanished"))?;
        audit(db, who, "重新核验报告", &number)?;
        let body = format!(
            "<h2>重新核验 {}</h2><p><a href=\"/halls/{}\">← 返回服务大厅</a></p><section><p><span class=\"badge {}\">{}</span> 核验时间：{}</p><pre>{}</pre></section>",
            esc(&number),
            url(&rf.hall_id),
            if v.ok { "pass" } else { "fail" },
            if v.ok { "核验通过" } else { "核验未通过" },
            esc(&(chrono::Utc::now() + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M").to_string()),
            esc(&v.text())
        );
        Ok(page(StatusCode::OK, frame("重新核验", Some((&who.staff, &who.csrf)), "/halls", &body)))
    })
    .await
}

async fn report_pdf(State(d): St, headers: HeaderMap, Path(number): Path<String>) -> Response {
    report_file(d, headers, number, true).await
}

async fn report_sidecar(State(d): St, headers: HeaderMap, Path(number): Path<String>) -> Response {
    report_file(d, headers, number, false).await
}

// ---------------------------------------------------------------------------------------------
// 到期复评

#[derive(Deserialize, Default)]
#[serde(default)]
struct DueQuery {
    days: String,
    city: String,
}

impl DueQuery {
    fn days(&self) -> i32 {
        self.days.parse::<i32>().unwrap_or(30).clamp(0, 3650)
    }
}

async fn due(State(d): St, headers: HeaderMap, Query(dq): Query<DueQuery>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        let days = dq.days();
        let rows = q::due_named(db, &region_for(who, Some(&dq.city)), &crate::today(), days).map_err(db_err)?;
        let mut body = format!(
            "<h2>到期复评</h2><form class=\"filters\" method=\"get\" action=\"/due\">{}\
             <label>有效期在 <input name=\"days\" type=\"number\" min=\"0\" max=\"3650\" value=\"{days}\"> 天内到期（含已过期）</label>\
             <button type=\"submit\">查询</button> <a class=\"button\" href=\"/due.xlsx?days={days}&amp;city={}\">导出 Excel</a></form>\
             <p class=\"hint\">辽宁省示范窗口评价结果有效期一年，应在有效期届满前一个月内申请复评（DB21/T 第12条）。</p>\
             <p class=\"count\">共 {} 家</p><table><thead><tr><th>服务大厅</th><th>行政区划</th><th>最近报告</th><th>有效期至</th><th>状态</th></tr></thead><tbody>",
            city_select(db, who, Some(&dq.city))?,
            url(&dq.city),
            rows.len()
        );
        for (r, name, code) in &rows {
            let state = if r.days_left < 0 { format!("已过期 {} 天", -r.days_left) } else { format!("{} 天后到期", r.days_left) };
            body.push_str(&format!(
                "<tr><td><a href=\"/halls/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                url(&r.hall_id),
                esc(name),
                esc(&regions::city_of(code)),
                esc(&r.report_number),
                esc(&r.valid_until),
                if r.days_left < 0 { "lapsed" } else { "soon" },
                esc(&state)
            ));
        }
        if rows.is_empty() {
            body.push_str("<tr><td colspan=\"5\" class=\"empty\">没有即将到期或已过期的服务大厅。</td></tr>");
        }
        body.push_str("</tbody></table>");
        Ok(page(StatusCode::OK, frame("到期复评", Some((&who.staff, &who.csrf)), "/due", &body)))
    })
    .await
}

async fn due_xlsx(State(d): St, headers: HeaderMap, Query(dq): Query<DueQuery>) -> Response {
    signed_in(d, headers, Kind::File, move |db, who| {
        let days = dq.days();
        let region = region_for(who, Some(&dq.city));
        let rows = q::due_named(db, &region, &crate::today(), days).map_err(db_err)?;
        let bytes = due_workbook(&rows).map_err(internal)?;
        audit(db, who, "导出到期清单", &format!("{region} {days}天"))?;
        Ok((
            [
                (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"due-{}.xlsx\"", crate::today())),
            ],
            bytes,
        )
            .into_response())
    })
    .await
}

/// The due list as a workbook: one row per hall.
pub fn due_workbook(rows: &[(q::DueHall, String, String)]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("到期复评").map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    for (c, h) in ["服务大厅编号", "服务大厅", "行政区划代码", "地市", "最近报告编号", "有效期至", "剩余天数（负数为已过期）"].iter().enumerate()
    {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| e.to_string())?;
    }
    for (i, (r, name, code)) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
        ws.write_string(row, 0, &r.hall_id).map_err(e)?;
        ws.write_string(row, 1, name).map_err(e)?;
        ws.write_string(row, 2, code).map_err(e)?;
        ws.write_string(row, 3, regions::city_of(code)).map_err(e)?;
        ws.write_string(row, 4, &r.report_number).map_err(e)?;
        ws.write_string(row, 5, &r.valid_until).map_err(e)?;
        ws.write_number(row, 6, r.days_left).map_err(e)?;
    }
    ws.set_column_width(1, 36).map_err(|e| e.to_string())?;
    ws.set_column_width(4, 28).map_err(|e| e.to_string())?;
    wb.save_to_buffer().map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// 扣分项分析

#[derive(Deserialize, Default)]
#[serde(default)]
struct CityQuery {
    city: String,
}

async fn items(State(d): St, headers: HeaderMap, Query(cq): Query<CityQuery>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        let region = region_for(who, Some(&cq.city));
        let rows = q::item_deductions(db, &region).map_err(db_err)?;
        let rubrics = rubrics_of(db, &region)?;
        let bars: Vec<charts::Bar> = rows
            .iter()
            .map(|r| charts::Bar {
                label: item_name(&rubrics, &r.item_id),
                href: format!("/items/{}?city={}", url(&r.item_id), url(&cq.city)),
                mean: r.mean_deduction.clone(),
                max: rubrics
                    .iter()
                    .find_map(|ru| ru.item.iter().find(|i| i.id == r.item_id).map(|i| i.points.get().normalize().to_string()))
                    .unwrap_or_default(),
                halls_losing: r.halls_losing,
                halls: r.halls,
            })
            .collect();
        let place = if region.len() >= 4 { regions::city_of(&format!("{region:0<6}")) } else { region_label(&format!("{region:0<6}")) };
        let body = format!(
            "<h2>扣分项分析 · {}</h2><form class=\"filters\" method=\"get\" action=\"/items\">{}<button type=\"submit\">查看</button></form>\
             <p class=\"hint\">按各服务大厅最近一次评价：每项的平均扣分（评价组平均），以及扣分的服务大厅占比。点击项目查看扣分的服务大厅。</p>{}",
            esc(&place),
            city_select(db, who, Some(&cq.city))?,
            if bars.is_empty() { "<p class=\"empty\">该区域尚无评价结果。</p>".to_string() } else { charts::deduction_bars(&bars) }
        );
        Ok(page(StatusCode::OK, frame("扣分项分析", Some((&who.staff, &who.csrf)), "/items", &body)))
    })
    .await
}

async fn item_halls(State(d): St, headers: HeaderMap, Path(item): Path<String>, Query(cq): Query<CityQuery>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        let region = region_for(who, Some(&cq.city));
        let rubrics = rubrics_of(db, &region)?;
        let rows = q::halls_losing(db, &region, &item, 500).map_err(db_err)?;
        let mut body = format!(
            "<h2>{}</h2><p><a href=\"/items?city={}\">← 返回扣分项分析</a></p><p class=\"count\">最近一次评价在此项扣分的服务大厅：{} 家（最多列出 500 家）</p>\
             <table><thead><tr><th>服务大厅</th><th>行政区划</th><th>报告编号</th><th>分值</th><th>平均扣分</th></tr></thead><tbody>",
            esc(&item_name(&rubrics, &item)),
            url(&cq.city),
            rows.len()
        );
        for q::HallLosing { hall_id: id, name, region_code: code, report_number: report, max_points: max, mean_lost: lost } in &rows {
            body.push_str(&format!(
                "<tr><td><a href=\"/halls/{}?report={}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                url(id),
                url(report),
                esc(name),
                esc(&regions::city_of(code)),
                esc(report),
                esc(&n(max)),
                esc(&n(lost))
            ));
        }
        body.push_str("</tbody></table>");
        Ok(page(StatusCode::OK, frame("扣分项分析", Some((&who.staff, &who.csrf)), "/items", &body)))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// 用户管理、审计日志

fn admin_only(who: &Who) -> Result<(), Response> {
    if who.staff.admin {
        Ok(())
    } else {
        Err(refusal(StatusCode::FORBIDDEN, Some(who), "无权访问", "只有省级管理员可以管理用户。"))
    }
}

fn staff_list(db: &mut Client, who: &Who, notice: &str) -> Result<Response, Response> {
    let users = staff::list(db).map_err(db_err)?;
    let mut body = String::from("<h2>用户管理</h2>");
    if !notice.is_empty() {
        body.push_str(&format!("<p class=\"notice\" role=\"status\">{}</p>", esc(notice)));
    }
    body.push_str("<table><thead><tr><th>用户名</th><th>姓名</th><th>角色</th><th>管辖区域</th><th>状态</th><th>操作</th></tr></thead><tbody>");
    for u in &users {
        let csrf = esc(&who.csrf);
        let toggle = if u.disabled { ("enable", "启用") } else { ("disable", "停用") };
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>\
             <form method=\"post\" action=\"/staff/{}/{}\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>{}</button></form> \
             <form method=\"post\" action=\"/staff/{}/reset\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>重置密码</button></form></td></tr>",
            esc(&u.username),
            esc(&u.display_name),
            u.role.chinese(),
            if u.admin { " · 管理员" } else { "" },
            esc(&region_label(&u.region_code)),
            if u.disabled { "已停用" } else { "正常" },
            url(&u.username),
            toggle.0,
            toggle.1,
            url(&u.username),
        ));
    }
    body.push_str(&format!(
        "</tbody></table><h3>新建用户</h3><form method=\"post\" action=\"/staff\" class=\"stack\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label>用户名（小写字母、数字）<input name=\"username\" required pattern=\"[a-z0-9._-]{{2,40}}\"></label>\
         <label>姓名<input name=\"display_name\" required></label>\
         <label>角色<select name=\"role\"><option value=\"city\">市级</option><option value=\"province\">省级</option><option value=\"auditor\">审计（只读）</option></select></label>\
         <label>管辖区域代码（省 320000 / 市 320500）<input name=\"region_code\" required pattern=\"[0-9]{{6}}\"></label>\
         <label><input type=\"checkbox\" name=\"admin\" value=\"1\"> 管理员（可管理用户）</label>\
         <label>初始密码（至少 {} 位）<input name=\"password\" type=\"password\" required minlength=\"{}\" autocomplete=\"new-password\"></label>\
         <button type=\"submit\">创建</button></form>",
        esc(&who.csrf),
        access::MIN_PASSWORD,
        access::MIN_PASSWORD
    ));
    Ok(page(StatusCode::OK, frame("用户管理", Some((&who.staff, &who.csrf)), "/staff", &body)))
}

async fn staff_page(State(d): St, headers: HeaderMap) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        admin_only(who)?;
        staff_list(db, who, "")
    })
    .await
}

#[derive(Deserialize)]
struct NewStaffForm {
    #[serde(default)]
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    region_code: String,
    #[serde(default)]
    admin: String,
    password: String,
}

async fn staff_create(State(d): St, headers: HeaderMap, Form(f): Form<NewStaffForm>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        check_csrf(who, &f.csrf)?;
        admin_only(who)?;
        let refuse = |m: String| refusal(StatusCode::UNPROCESSABLE_ENTITY, Some(who), "无法创建用户", &m);
        let role = Role::parse(&f.role).map_err(|_| refuse(format!("角色“{}”无效：请选择省级、市级或审计。", f.role)))?;
        let hash = access::hash_password(&f.password).map_err(|_| refuse(format!("密码太短：至少 {} 位。", access::MIN_PASSWORD)))?;
        let s = Staff {
            username: f.username.trim().to_lowercase(),
            display_name: f.display_name.trim().to_string(),
            role,
            region_code: f.region_code.trim().to_string(),
            admin: f.admin == "1" && role == Role::Province,
            disabled: false,
        };
        if let Err(e) = staff::create(db, &s, &hash) {
            return Err(refuse(format!("{}（{e}）", creation_refusal(&e.to_string()))));
        }
        audit(db, who, "创建用户", &s.username)?;
        staff_list(db, who, &format!("已创建用户 {}（{}）。", s.username, s.role.chinese()))
    })
    .await
}

/// The Chinese reason for a refused new user (the record layer's English in parentheses).
fn creation_refusal(e: &str) -> &'static str {
    if e.contains("is taken") {
        "用户名已被使用"
    } else if e.contains("region code") {
        "管辖区域代码与角色不符（省级用 XX0000，市级用 XXXX00）"
    } else if e.contains("username") {
        "用户名只能包含小写字母、数字和 . _ -，2 到 40 位"
    } else {
        "请检查填写的内容"
    }
}

async fn staff_change(State(d): St, headers: HeaderMap, Path((username, action)): Path<(String, String)>, Form(f): Form<CsrfForm>) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        check_csrf(who, &f.csrf)?;
        admin_only(who)?;
        let missing = || refusal(StatusCode::NOT_FOUND, Some(who), "未找到", &format!("没有用户“{username}”。"));
        if staff::find(db, &username).map_err(db_err)?.is_none() {
            return Err(missing());
        }
        let notice = match action.as_str() {
            "disable" if username == who.staff.username => {
                return Err(refusal(StatusCode::UNPROCESSABLE_ENTITY, Some(who), "无法停用", "不能停用自己的账号。"));
            }
            "disable" => {
                staff::set_disabled(db, &username, true).map_err(db_err)?;
                audit(db, who, "停用用户", &username)?;
                format!("已停用 {username}，其登录会话已结束。")
            }
            "enable" => {
                staff::set_disabled(db, &username, false).map_err(db_err)?;
                audit(db, who, "启用用户", &username)?;
                format!("已启用 {username}。")
            }
            "reset" => {
                let password = access::token().map_err(internal)?[..16].to_string();
                staff::set_password(db, &username, &access::hash_password(&password).map_err(internal)?).map_err(db_err)?;
                audit(db, who, "重置密码", &username)?;
                format!("已重置 {username} 的密码，新密码：{password}（只显示这一次，请当面或电话告知本人）")
            }
            _ => return Err(refusal(StatusCode::NOT_FOUND, Some(who), "未找到", "没有这个操作。")),
        };
        staff_list(db, who, &notice)
    })
    .await
}

async fn audit_log_page(State(d): St, headers: HeaderMap) -> Response {
    signed_in(d, headers, Kind::Page, move |db, who| {
        if !who.staff.reads_audit_log() {
            return Err(refusal(StatusCode::FORBIDDEN, Some(who), "无权访问", "只有管理员和省级审计人员可以查看审计日志。"));
        }
        let lines = staff::audit_lines(db, 500).map_err(db_err)?;
        let mut body = String::from("<h2>审计日志</h2><p class=\"hint\">最近 500 条：谁在何时查看、下载或导出了什么。</p><table><thead><tr><th>时间</th><th>用户</th><th>操作</th><th>对象</th></tr></thead><tbody>");
        for l in &lines {
            body.push_str(&format!("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&l.at), esc(&l.username), esc(&l.action), esc(&l.target)));
        }
        body.push_str("</tbody></table>");
        Ok(page(StatusCode::OK, frame("审计日志", Some((&who.staff, &who.csrf)), "/audit", &body)))
    })
    .await
}
