//! The sync protocol's wire types pinned as golden schema files (`tests/schemas/sync-*.txt`,
//! issue #11): the shape of serde's output of fully populated values. A versioned struct never
//! changes, so these files never change either; a new version gets files of its own.

#[path = "../../../tests/schemas/shape.rs"]
mod shape;

use hallmark_sync::wire::*;
use serde::Serialize;

fn s(v: &str) -> String {
    v.to_string()
}

fn check<T: Serialize>(name: &str, values: &[T]) {
    let values: Vec<serde_json::Value> = values.iter().map(|v| serde_json::to_value(v).unwrap()).collect();
    shape::check(name, &shape::shape_of(&values, &[]));
}

fn receipt() -> SignedReceiptV1 {
    SignedReceiptV1 {
        receipt: s("{…}"),
        algorithm: s("ecdsa-p256-sha256"),
        signature: s("3045…"),
        certificates: vec![s("-----BEGIN CERTIFICATE-----…")],
    }
}

#[test]
fn sync_wire_types_keep_their_shape() {
    check("sync-device-v1", &[DeviceV1 { certificates: vec![s("pem")] }]);
    check(
        "sync-device-known-v1",
        &[DeviceKnownV1 { name: s("张伟"), unit: s("u"), roles: vec![s("assessor")], not_after: s("t"), server_time: s("t") }],
    );
    let wanted = WantedFileV1 { entry: s("photos/x.jpg"), sha256: s("00"), size: 1 };
    check(
        "sync-offer-v1",
        &[
            OfferV1 { protocol: s(PROTOCOL), protocol_version: 1, bundle_id: s("b"), inspection_id: s("i"), missing: vec![wanted], receipt: None },
            OfferV1 {
                protocol: s(PROTOCOL),
                protocol_version: 1,
                bundle_id: s("b"),
                inspection_id: s("i"),
                missing: vec![],
                receipt: Some(receipt()),
            },
        ],
    );
    check("sync-stored-v1", &[StoredV1 { sha256: s("00"), bytes: 1 }]);
    check("sync-committed-v1", &[CommittedV1 { outcome: s("applied"), new_events: 1, receipt: receipt() }]);
    check(
        "sync-receipt-v1",
        &[ReceiptV1 {
            format: s(RECEIPT_FORMAT),
            format_version: 1,
            bundle_id: s("b"),
            inspection_id: s("i"),
            signer: s("0000 0000 0000 0000"),
            events: 1,
            photos: 1,
            received_at: s("t"),
            server: s("演示同步服务器"),
        }],
    );
    check("sync-signed-receipt-v1", &[receipt()]);
    let item = PullItemV1 { bundle_id: s("b"), inspection_id: s("i"), assignment: s("a"), site: s("s"), assessor: s("a"), received_at: s("t") };
    check("sync-pull-list-v1", &[PullListV1 { bundles: vec![item] }]);
    check("sync-error-v1", &[ErrorV1 { error: s("replay"), message: s("m"), server_time: s("t") }]);
    let item = AssignmentItemV1 { id: s("a"), site: s("s"), rubric_id: s("r"), role: s("member") };
    check("sync-assignment-list-v1", &[AssignmentListV1 { assignments: vec![item] }]);
    check(
        "sync-assignment-v1",
        &[AssignmentV1 { id: s("a"), site: s("s"), rubric_id: s("r"), lead_certificate: s("pem"), member_certificates: vec![s("pem")] }],
    );
    check(
        "sync-assignment-added-v1",
        &[AssignmentAddedV1 { id: s("a"), site: s("s"), rubric_id: s("r"), lead: s("王敏"), members: vec![s("李娜")] }],
    );
    // The hall registry (issue #11, second part).
    let hall = HallV1 { id: s("h"), region_code: s("211221"), name: s("n"), address: s("a"), level: s("county") };
    check("sync-hall-list-v1", &[HallListV1 { halls: vec![hall.clone()] }]);
    check("sync-halls-imported-v1", &[HallsImportedV1 { added: 1, updated: 0, unchanged: 0 }]);
    check(
        "sync-assignment-v2",
        &[
            AssignmentV2 {
                id: s("a"),
                hall_id: s("h"),
                rubric_id: s("r"),
                lead_certificate: s("pem"),
                member_certificates: vec![s("pem")],
                planned_from: Some(s("2027-11-02")),
                planned_to: Some(s("2027-11-04")),
            },
            AssignmentV2 {
                id: s("a"),
                hall_id: s("h"),
                rubric_id: s("r"),
                lead_certificate: s("pem"),
                member_certificates: vec![],
                planned_from: None,
                planned_to: None,
            },
        ],
    );
    let items = vec![
        AssignmentItemV2 {
            id: s("a"),
            site: s("s"),
            rubric_id: s("r"),
            role: s("member"),
            hall: Some(hall),
            planned_from: Some(s("2027-11-02")),
            planned_to: Some(s("2027-11-04")),
        },
        AssignmentItemV2 { id: s("a"), site: s("s"), rubric_id: s("r"), role: s("lead"), hall: None, planned_from: None, planned_to: None },
    ];
    check("sync-assignment-list-v2", &[AssignmentListV2 { assignments: items }]);
    // Enrollment over the network, trust and rubric distribution (issue #11, second part).
    check("sync-trust-v1", &[TrustV1 { roots: vec![s("pem")], crls: vec![s("pem")], server_time: s("t") }]);
    check("sync-enrollment-request-v1", &[EnrollmentRequestV1 { request: s("pem") }]);
    let enrollment = |state: &str, reason: Option<String>, certificates: Vec<String>| EnrollmentV1 {
        fingerprint: s("3f14 6d9d"),
        public_key: s("00"),
        name: s("赵敏"),
        unit: s("u"),
        title: s("t"),
        device_id: Some(s("d")),
        state: s(state),
        received_at: s("t"),
        decided_at: Some(s("t")),
        reason,
        request: s("pem"),
        certificates,
    };
    let mut pending = enrollment("pending", None, vec![]);
    pending.device_id = None;
    pending.decided_at = None;
    let list = vec![pending, enrollment("approved", None, vec![s("pem")]), enrollment("refused", Some(s("r")), vec![])];
    check("sync-enrollment-v1", &list);
    check("sync-enrollment-list-v1", &[EnrollmentListV1 { enrollments: list }]);
    check("sync-enrollment-decision-v1", &[EnrollmentDecisionV1 { decision: s("approve"), certificates: vec![s("pem")], reason: s("") }]);
    check(
        "sync-rubric-release-v1",
        &[RubricReleaseV1 {
            format: s(RUBRIC_RELEASE_FORMAT),
            format_version: 1,
            rubric_id: s("r"),
            version: s("3"),
            sha256: s("00"),
            published_at: s("t"),
            server: s("n"),
        }],
    );
    let signed =
        SignedRubricV1 {
            release: s("{…}"), algorithm: s("ecdsa-p256-sha256"), signature: s("30"), certificates: vec![s("pem")], content: s("toml")
        };
    check("sync-rubric-list-v1", &[RubricListV1 { rubrics: vec![signed] }]);
    check("sync-rubric-publish-v1", &[RubricPublishV1 { content: s("toml") }]);
    check("sync-rubric-published-v1", &[RubricPublishedV1 { rubric_id: s("r"), version: s("3"), sha256: s("00") }]);
}
