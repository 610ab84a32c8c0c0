//! The checklist screen: the inspection, its photos, services and events.

use super::*;

// ---------- the checklist screen ----------

/// Everything the checklist screen shows, recomputed from the store.
#[derive(Debug, Serialize)]
pub struct InspectionView {
    pub inspection: Inspection,
    pub rubric: Rubric,
    pub answers: BTreeMap<String, Value>,
    pub sheet: ScoreSheet,
    pub evidence: Vec<Evidence>,
    pub services: Vec<ServiceRecord>,
    /// The handwritten signature as a data URL, if drawn.
    pub signature: Option<String>,
    /// The lead's review of this sheet as received on this tablet (issue #13): returned items
    /// first, each with the lead's comment.
    pub reviews: Vec<ReviewView>,
}

/// One reviewed sheet or item, as the assessor's tablet shows it.
#[derive(Debug, Serialize)]
pub struct ReviewView {
    /// `None`: the whole sheet.
    pub item_id: Option<String>,
    /// The item's name as the rubric gives it ("" for the whole sheet).
    pub item_name: String,
    /// returned | answered | accepted
    pub state: &'static str,
    pub comment: String,
    /// When the lead recorded it, RFC 3339 UTC.
    pub at: String,
    /// The assessor's "keep, because …" reason, once given (issue #13).
    pub kept: Option<String>,
}

impl ReviewView {
    fn of(r: &hallmark_store::reviews::Review) -> ReviewView {
        ReviewView {
            item_id: r.item_id.clone(),
            item_name: r.item_name.clone().unwrap_or_default(),
            state: r.state.name(),
            comment: r.state.comment().to_string(),
            at: r.state.at().to_string(),
            kept: r.state.kept().map(str::to_string),
        }
    }
}

impl InspectionView {
    /// Reads the inspection, its pinned rubric, answers, computed sheet, photos (with their
    /// thumbnails), services and signature from the store.
    pub fn load(store: &Store, id: &str) -> Result<InspectionView, CommandError> {
        let inspection = store.inspection(id)?;
        let (rubric, sheet) = store.sheet(id)?;
        // Current captions; withdrawn photos left out (hallmark_store::captions).
        let evidence: Vec<(hallmark_store::Evidence, Vec<u8>)> = store
            .shown_evidence(id)?
            .into_iter()
            .map(|e| {
                let thumb = std::fs::read(store.thumb_path(&e.photo.sha256)).unwrap_or_default();
                (e, thumb)
            })
            .collect();
        let signature = store.signature_image(id)?.and_then(|s| std::fs::read(store.signature_path(&s.sha256)).ok());
        let services = store.service_entries(id)?;
        let answers = store.answers(id)?;
        let reviews = store.reviews(&[id.to_string()])?;
        Ok(InspectionView::new(Parts {
            inspection: &inspection,
            rubric: &rubric,
            answers,
            sheet: &sheet,
            evidence: &evidence,
            services: &services,
            signature: signature.as_deref(),
            reviews: &reviews,
        }))
    }

    pub fn new(p: Parts<'_>) -> InspectionView {
        InspectionView {
            inspection: p.inspection.into(),
            rubric: p.rubric.into(),
            answers: p.answers,
            sheet: p.sheet.into(),
            evidence: p.evidence.iter().map(|(e, thumb)| Evidence::of(e, thumb)).collect(),
            services: p.services.iter().map(ServiceRecord::from).collect(),
            signature: p.signature.map(|png| data_url("image/png", png)),
            reviews: {
                // Returned items first, then answered, then accepted.
                let mut v: Vec<ReviewView> = p.reviews.iter().map(ReviewView::of).collect();
                v.sort_by_key(|r| match r.state {
                    "returned" => 0,
                    "answered" => 1,
                    _ => 2,
                });
                v
            },
        }
    }
}

/// The library values an [`InspectionView`] is made of.
pub struct Parts<'a> {
    pub inspection: &'a hallmark_store::Inspection,
    pub rubric: &'a rub::Rubric,
    pub answers: BTreeMap<String, Value>,
    pub sheet: &'a sc::ScoreSheet,
    /// Each photo with its thumbnail's JPEG bytes.
    pub evidence: &'a [(hallmark_store::Evidence, Vec<u8>)],
    pub services: &'a [hallmark_store::ServiceRecord],
    /// The signature's PNG bytes.
    pub signature: Option<&'a [u8]>,
    /// The lead's reviews of this sheet received here.
    pub reviews: &'a [hallmark_store::reviews::Review],
}

pub fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[derive(Debug, Serialize)]
pub struct Inspection {
    pub id: String,
    pub rubric_id: String,
    pub rubric_version: String,
    pub rubric_hash: String,
    pub site_name: String,
    pub site_address: String,
    pub site_level: String,
    pub visited_on: String,
    pub assessor_name: String,
    pub assessor_unit: String,
    pub assessor_title: String,
    pub assessor_phone: String,
    pub device_id: String,
    pub created_at: String,
    pub finished_at: Option<String>,
}

impl From<&hallmark_store::Inspection> for Inspection {
    fn from(i: &hallmark_store::Inspection) -> Self {
        Inspection {
            id: i.id.clone(),
            rubric_id: i.rubric_id.clone(),
            rubric_version: i.rubric_version.clone(),
            rubric_hash: i.rubric_hash.clone(),
            site_name: i.site_name.clone(),
            site_address: i.site_address.clone(),
            site_level: i.site_level.clone(),
            visited_on: i.visited_on.clone(),
            assessor_name: i.assessor_name.clone(),
            assessor_unit: i.assessor_unit.clone(),
            assessor_title: i.assessor_title.clone(),
            assessor_phone: i.assessor_phone.clone(),
            device_id: i.device_id.clone(),
            created_at: i.created_at.clone(),
            finished_at: i.finished_at.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Evidence {
    pub id: String,
    pub item_id: String,
    pub caption: String,
    pub attached_at: String,
    pub photo: Photo,
    /// The 320 px thumbnail as a data URL.
    pub thumbnail: String,
}

impl Evidence {
    pub fn of(e: &hallmark_store::Evidence, thumb_jpeg: &[u8]) -> Evidence {
        Evidence {
            id: e.id.clone(),
            item_id: e.item_id.clone(),
            caption: e.caption.clone(),
            attached_at: e.attached_at.clone(),
            photo: (&e.photo).into(),
            thumbnail: data_url("image/jpeg", thumb_jpeg),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Photo {
    pub sha256: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub orientation: u16,
    pub taken_at: Option<String>,
}

impl From<&hallmark_store::photo::PhotoMeta> for Photo {
    fn from(p: &hallmark_store::photo::PhotoMeta) -> Self {
        Photo { sha256: p.sha256.clone(), size: p.size, width: p.width, height: p.height, orientation: p.orientation, taken_at: p.taken_at.clone() }
    }
}

#[derive(Debug, Serialize)]
pub struct ServiceRecord {
    pub id: String,
    pub item_id: String,
    pub kind: String,
    pub observed_at: String,
    pub note: String,
    pub occurrences: BTreeMap<String, u64>,
    pub recorded_at: String,
    pub events: Vec<Event>,
}

impl From<&hallmark_store::ServiceRecord> for ServiceRecord {
    fn from(r: &hallmark_store::ServiceRecord) -> Self {
        ServiceRecord {
            id: r.id.clone(),
            item_id: r.item_id.clone(),
            kind: r.entry.kind.clone(),
            observed_at: r.entry.observed_at.clone(),
            note: r.entry.note.clone(),
            occurrences: r.entry.occurrences.clone(),
            recorded_at: r.recorded_at.clone(),
            events: r.events.iter().map(Event::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Event {
    pub id: String,
    pub key: String,
    pub value: Option<Value>,
    pub previous: Option<Value>,
    pub author: String,
    pub device_id: String,
    pub recorded_at: String,
    pub amendment: Option<String>,
}

impl From<&hallmark_store::Event> for Event {
    fn from(e: &hallmark_store::Event) -> Self {
        Event {
            id: e.id.clone(),
            key: e.key.clone(),
            value: e.value.clone(),
            previous: e.previous.clone(),
            author: e.author.clone(),
            device_id: e.device_id.clone(),
            recorded_at: e.recorded_at.clone(),
            amendment: e.amendment.clone(),
        }
    }
}
