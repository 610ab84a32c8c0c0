//! The rubric validator: ids, sums at every level, rules that read declared inputs of the right
//! kind, bands, caps, key elements; and the seeds' own inconsistencies as findings.

use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::num::fmt;

pub(super) fn validate(name: &str, r: &Rubric) -> Vec<String> {
    let mut p = Vec::new();
    let mut say = |s: String| p.push(format!("{name}: {s}"));

    if r.format != FORMAT {
        say(format!("format '{}' is not supported (write format = \"{FORMAT}\")", r.format));
    }
    if r.id.is_empty() || !r.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        say(format!("rubric id '{}' must be lowercase letters, digits and '-' (e.g. \"jiangsu-15min\")", r.id));
    }
    if r.version.trim().is_empty() {
        say("version is empty (write version = \"1\")".into());
    }
    if r.result.pass_at.is_some() && (r.result.pass_text.is_none() || r.result.fail_text.is_none()) {
        say("[result] has pass_at but no pass_text/fail_text (write both conclusions)".into());
    }
    if r.result.min_assessors == 0 {
        say("[result] min_assessors is 0 (write at least 1)".into());
    }

    // Unique ids across everything that observations and reports refer to.
    let ids: Vec<(&str, &'static str)> = r
        .group
        .iter()
        .map(|g| (g.id.as_str(), "group"))
        .chain(r.item.iter().map(|i| (i.id.as_str(), "item")))
        .chain(r.inputs().map(|(_, i)| (i.id.as_str(), "input")))
        .chain(r.veto.iter().map(|v| (v.id.as_str(), "veto")))
        .collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (id, what) in ids {
        if id.trim().is_empty() {
            say(format!("a {what} has an empty id (give it a unique id)"));
        } else if !seen.insert(id) {
            say(format!("duplicate id '{id}' ({what}; ids must be unique across groups, items, inputs and vetoes)"));
        }
    }

    // The groups by id (the first group of an id, as `Rubric::group` finds it), and the groups
    // and items each group id holds, in file order: every check of the tree below is one pass
    // over the groups (issue #15: a deep chain of groups took time growing with the cube of its
    // depth).
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(r.group.len());
    let mut child_groups_of: HashMap<&str, Vec<&Group>> = HashMap::new();
    for (k, g) in r.group.iter().enumerate() {
        first.entry(g.id.as_str()).or_insert(k);
        if let Some(parent) = &g.parent {
            child_groups_of.entry(parent.as_str()).or_default().push(g);
        }
    }
    let mut items_of: HashMap<&str, Vec<&Item>> = HashMap::new();
    for item in &r.item {
        items_of.entry(item.group.as_str()).or_default().push(item);
    }

    // Points are positive; parents and sums.
    let zero = Decimal::ZERO;
    for g in &r.group {
        if g.points.0 <= zero {
            say(format!("group '{}': points {} must be above 0", g.id, g.points));
        }
        if let Some(parent) = &g.parent {
            if !first.contains_key(parent.as_str()) {
                say(format!("group '{}': parent '{parent}' does not exist (declare [[group]] id = \"{parent}\" or fix the name)", g.id));
            }
        }
    }
    // Cycles in groups.
    let links: Vec<(&str, Option<&str>)> = r.group.iter().map(|g| (g.id.as_str(), g.parent.as_deref())).collect();
    for (g, in_cycle) in r.group.iter().zip(parents_cycle(&links, &first)) {
        if in_cycle {
            say(format!("group '{}': its parents form a cycle (a group cannot contain itself)", g.id));
        }
    }
    let top: Decimal = r.group.iter().filter(|g| g.parent.is_none()).map(|g| g.points.0).sum();
    if !r.group.is_empty() && top != r.points.0 {
        say(format!("top-level groups sum to {} but the rubric says points = {} (fix the groups' points or the total)", fmt(top), r.points));
    }
    for g in &r.group {
        let child_groups: &[&Group] = child_groups_of.get(g.id.as_str()).map_or(&[], Vec::as_slice);
        let items: &[&Item] = items_of.get(g.id.as_str()).map_or(&[], Vec::as_slice);
        if !child_groups.is_empty() && !items.is_empty() {
            say(format!("group '{}' holds both groups and items (put its items in a child group)", g.id));
        }
        if child_groups.is_empty() && items.is_empty() {
            say(format!("group '{}' is empty (add items or remove it)", g.id));
            continue;
        }
        let sum: Decimal = child_groups.iter().map(|c| c.points.0).sum::<Decimal>() + items.iter().map(|i| i.points.0).sum::<Decimal>();
        if sum != g.points.0 {
            say(format!(
                "group '{}': children sum to {} but the group says {} (fix the points of '{}' or of its children)",
                g.id,
                fmt(sum),
                g.points,
                g.id
            ));
        }
    }

    let all_inputs: HashMap<&str, &Input> = r.inputs().map(|(_, i)| (i.id.as_str(), i)).collect();
    for item in &r.item {
        let at = format!("item '{}'", item.id);
        if !first.contains_key(item.group.as_str()) {
            say(format!("{at}: group '{}' does not exist (declare it or fix the name)", item.group));
        }
        if item.points.0 <= zero {
            say(format!("{at}: points {} must be above 0", item.points));
        }
        if item.part.is_empty() {
            say(format!("{at}: has no [[item.part]] (every item needs a rule that turns inputs into points)"));
        }
        let parts_sum: Decimal = item.part.iter().map(|p| p.points.0).sum();
        if !item.part.is_empty() && parts_sum != item.points.0 {
            say(format!("{at}: parts sum to {} but the item says {} (fix the parts' points or the item's)", fmt(parts_sum), item.points));
        }
        for input in &item.input {
            validate_input(&at, input, &mut say);
        }
        if let Some(log) = &item.service_log {
            let own = |id: &str| item.input.iter().find(|i| i.id == id).map(|i| i.kind);
            for id in [&log.real, &log.simulated].into_iter().chain(log.categories.iter()) {
                match own(id) {
                    Some(InputKind::Count | InputKind::Tally) => {}
                    Some(k) => say(format!("{at}: service_log names '{id}' of kind {} (it feeds count or tally inputs only)", k.name())),
                    None => say(format!("{at}: service_log names '{id}', which is not an input of this item")),
                }
            }
            if log.categories.is_empty() {
                say(format!("{at}: service_log has no categories (list the tally inputs an entry feeds)"));
            }
        }
        for (n, part) in item.part.iter().enumerate() {
            let at = format!("{at} part {} ('{}')", n + 1, part.label);
            if part.points.0 <= zero {
                say(format!("{at}: points {} must be above 0", part.points));
            }
            let mut uses: Vec<&str> = part.rule.inputs();
            uses.extend(part.zero_when.iter().map(|c| c.input.as_str()));
            if uses.is_empty() {
                say(format!("{at}: rule '{}' reads no input (name the input it scores)", part.rule.kind()));
            }
            for u in &uses {
                if !all_inputs.contains_key(u) {
                    say(format!("{at}: input '{u}' is not declared (add [[item.input]] id = \"{u}\" or fix the name)"));
                }
            }
            for c in &part.zero_when {
                let n_set = c.is.is_some() as u8 + c.above.is_some() as u8 + c.below.is_some() as u8 + c.late.is_some() as u8;
                if n_set != 1 {
                    say(format!("{at}: zero_when on '{}' needs exactly one of is / above / below / late", c.input));
                }
                let case_dates = all_inputs.get(c.input.as_str()).map(|i| i.kind) == Some(InputKind::CaseDates);
                match c.late {
                    Some(true) if !case_dates => say(format!("{at}: zero_when late reads a case_dates input, not '{}'", c.input)),
                    Some(false) => say(format!("{at}: zero_when on '{}' can only say late = true", c.input)),
                    None if case_dates => say(format!("{at}: zero_when on case_dates input '{}' says late = true", c.input)),
                    _ => {}
                }
            }
            validate_rule(&at, part, &all_inputs, &mut say);
        }
        for interp in &item.interpretation {
            if !FINDING_CODES.contains(&interp.finding.as_str()) {
                say(format!("{at}: interpretation finding '{}' is unknown (one of: {})", interp.finding, FINDING_CODES.join(", ")));
            }
            if interp.text.trim().is_empty() {
                say(format!("{at}: interpretation '{}' has no text (write how the item is read)", interp.finding));
            }
        }
    }
    p
}

/// For each group (id, parent id), whether its parents form a cycle: following its parent, then
/// that group's parent and so on (a parent id names the first group of that id, `first`) never
/// ends, or comes back to a group of its own id. Linear in the groups: each group's walk is
/// resolved once and shared by every group whose walk passes through it.
fn parents_cycle(links: &[(&str, Option<&str>)], first: &HashMap<&str, usize>) -> Vec<bool> {
    let n = links.len();
    let next: Vec<Option<usize>> = links.iter().map(|(_, parent)| parent.and_then(|p| first.get(p).copied())).collect();
    // endless[k]: the walk from group k never ends (it runs into a cycle).
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnWalk,
        Done,
    }
    let mut state = vec![State::New; n];
    let mut endless = vec![false; n];
    let mut walk = Vec::new();
    for start in 0..n {
        let mut cur = Some(start);
        while let Some(k) = cur.filter(|&k| state[k] == State::New) {
            state[k] = State::OnWalk;
            walk.push(k);
            cur = next[k];
        }
        // The walk stopped at its end, at a group already resolved, or on itself (a cycle).
        let verdict = cur.is_some_and(|k| state[k] == State::OnWalk || endless[k]);
        for k in walk.drain(..) {
            state[k] = State::Done;
            endless[k] = verdict;
        }
    }
    // A group that is not the first of its id comes back to its own id when the first group of
    // that id lies on its (finite) walk, i.e. is an ancestor of its parent in the tree of
    // finite walks: entry and exit times of one depth-first pass answer that for each.
    let later: Vec<usize> = (0..n).filter(|&k| first[links[k].0] != k && !endless[k]).collect();
    if later.is_empty() {
        return endless;
    }
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for k in (0..n).filter(|&k| !endless[k]) {
        if let Some(p) = next[k] {
            children[p].push(k);
        }
    }
    let (mut enter, mut exit) = (vec![0usize; n], vec![0usize; n]);
    let mut clock = 0;
    let mut stack: Vec<(usize, bool)> = (0..n).filter(|&k| !endless[k] && next[k].is_none()).map(|k| (k, false)).collect();
    while let Some((k, done)) = stack.pop() {
        clock += 1;
        if done {
            exit[k] = clock;
        } else {
            enter[k] = clock;
            stack.push((k, true));
            stack.extend(children[k].iter().map(|&c| (c, false)));
        }
    }
    let mut out = endless;
    for k in later {
        let own = first[links[k].0];
        if let Some(p) = next[k] {
            out[k] = enter[own] <= enter[p] && exit[p] <= exit[own];
        }
    }
    out
}

fn validate_input(at: &str, input: &Input, say: &mut dyn FnMut(String)) {
    let at = format!("{at} input '{}'", input.id);
    if let Some(from) = &input.default_from {
        if from != "site.level" {
            say(format!("{at}: default_from '{from}' is unknown (only \"site.level\")"));
        }
    }
    match input.kind {
        InputKind::Measurement => {
            if input.unit.as_deref().is_none_or(str::is_empty) {
                say(format!("{at}: a measurement needs a unit (e.g. unit = \"m²\")"));
            }
            match (input.min, input.max) {
                (Some(lo), Some(hi)) if lo.0 < hi.0 => {}
                (Some(_), Some(_)) => say(format!("{at}: min must be below max")),
                _ => say(format!("{at}: a measurement needs a valid range min and max (a reading outside it is refused)")),
            }
        }
        InputKind::Elements | InputKind::WindowEquipment => {
            if input.elements.is_empty() {
                say(format!("{at}: lists no elements (write elements = [\"…\"])"));
            }
            let set: BTreeSet<_> = input.elements.iter().collect();
            if set.len() != input.elements.len() {
                say(format!("{at}: an element is listed twice"));
            }
        }
        // Not collapsed into guards: a choice with options must stop here, not fall through to
        // the default_from arm below.
        #[allow(clippy::collapsible_match)]
        InputKind::Choice => {
            if input.options.is_empty() {
                say(format!("{at}: a choice needs options = [{{ id = \"…\", label = \"…\" }}]"));
            }
        }
        _ if input.default_from.is_some() => {
            say(format!("{at}: default_from is only for choice inputs"));
        }
        #[allow(clippy::collapsible_match)]
        InputKind::TimeSample => {
            if input.units.is_empty() {
                say(format!("{at}: a time_sample needs units = [\"工作日\", \"小时\"]"));
            }
            if input.sample_size == Some(0) {
                say(format!("{at}: sample_size is 0 (write the number of rows the standard asks for, e.g. sample_size = 50)"));
            }
            if let (Some(n), Some(_)) = (input.sample_size, input.expect_at_least) {
                say(format!("{at}: has both sample_size and expect_at_least (sample_size = {n} already requires the rows; remove expect_at_least)"));
            }
        }
        _ => {}
    }
    match (input.kind, input.within_months) {
        (InputKind::DatedList, Some(0)) => say(format!("{at}: within_months is 0 (write the months before the visit whose entries count, e.g. 12)")),
        (InputKind::DatedList, _) | (_, None) => {}
        (_, Some(_)) => say(format!("{at}: within_months is only for dated_list inputs")),
    }
    match (input.kind, input.limit_working_days) {
        (InputKind::CaseDates, None | Some(0)) => {
            say(format!("{at}: a case_dates input needs limit_working_days, the working days a case may take (e.g. limit_working_days = 3)"))
        }
        (InputKind::CaseDates, _) | (_, None) => {}
        (_, Some(_)) => say(format!("{at}: limit_working_days is only for case_dates inputs")),
    }
    if input.sample_size.is_some() && input.kind != InputKind::TimeSample {
        say(format!("{at}: sample_size is only for time_sample inputs (use expect_at_least for a {})", input.kind.name()));
    }
}

fn validate_rule(at: &str, part: &Part, inputs: &HashMap<&str, &Input>, say: &mut dyn FnMut(String)) {
    use InputKind::*;
    let kind_of = |id: &str| inputs.get(id).map(|i| i.kind);
    let expect = |id: &str, allowed: &[InputKind], say: &mut dyn FnMut(String)| {
        if let Some(k) = kind_of(id) {
            if !allowed.contains(&k) {
                let names: Vec<_> = allowed.iter().map(|k| k.name()).collect();
                say(format!("{at}: rule '{}' cannot read input '{id}' of kind {} (it reads {})", part.rule.kind(), k.name(), names.join(" / ")));
            }
        }
    };
    let positive = |what: &str, v: Num, say: &mut dyn FnMut(String)| {
        if v.0 <= Decimal::ZERO {
            say(format!("{at}: {what} {v} must be above 0"));
        }
    };
    match &part.rule {
        Rule::Yes { input } => expect(input, &[YesNo], say),
        Rule::Bands { input, bands } => {
            expect(input, &[Measurement, Count, Tally, Ratio, Elements], say);
            if bands.is_empty() {
                say(format!("{at}: bands is empty"));
            }
            for w in bands.windows(2) {
                if w[0].from.0 <= w[1].from.0 {
                    say(format!("{at}: bands must be listed from the highest 'from' down ({} then {})", w[0].from, w[1].from));
                }
                if w[0].points.0 < w[1].points.0 {
                    say(format!("{at}: a higher band scores less than a lower one ({} < {})", w[0].points, w[1].points));
                }
            }
            for b in bands {
                if b.points.0 < Decimal::ZERO || b.points.0 > part.points.0 {
                    say(format!("{at}: band from {} gives {} points, outside 0–{}", b.from, b.points, part.points));
                }
                if let Some(to) = b.to {
                    if to.0 < b.from.0 {
                        say(format!("{at}: band from {} has to = {} below its from", b.from, to));
                    }
                }
            }
            if let Some(first) = bands.first() {
                if first.points.0 != part.points.0 {
                    say(format!(
                        "{at}: the top band gives {} but the part is worth {} (the best band must earn full points)",
                        first.points, part.points
                    ));
                }
            }
        }
        Rule::Deduct { input, inputs: many, per, key } => {
            positive("per", *per, say);
            let all: Vec<&String> = input.iter().chain(many.iter()).collect();
            if all.is_empty() {
                say(format!("{at}: deduct needs input or inputs"));
            }
            for i in &all {
                expect(i, &[Count, Tally, Elements, WindowEquipment, TimeSample], say);
            }
            if !key.is_empty() {
                match all.as_slice() {
                    [one] if kind_of(one) == Some(Elements) => {
                        let listed = &inputs[one.as_str()].elements;
                        for k in key {
                            if !listed.contains(k) {
                                say(format!("{at}: key element '{k}' is not among the elements of '{one}'"));
                            }
                        }
                    }
                    _ => say(format!("{at}: key elements need exactly one elements input")),
                }
            }
        }
        Rule::Shortfall { input, target, per } => {
            expect(input, &[Count, Tally, DatedList], say);
            if inputs.get(input.as_str()).is_some_and(|i| i.kind == DatedList && i.within_months.is_none()) {
                say(format!(
                    "{at}: shortfall counts the entries of '{input}' within within_months of the visit: give the input within_months (e.g. 12)"
                ));
            }
            positive("target", *target, say);
            positive("per", *per, say);
        }
        Rule::Excess { input, limit: _, step, per } => {
            expect(input, &[Measurement, Count, Tally], say);
            positive("step", *step, say);
            positive("per", *per, say);
        }
        Rule::LevelShortfall { input, level, requirement, step_percent, per } => {
            expect(input, &[Measurement], say);
            expect(level, &[Choice], say);
            positive("step_percent", *step_percent, say);
            positive("per", *per, say);
            if let Some(choice) = inputs.get(level.as_str()) {
                for o in &choice.options {
                    if !requirement.contains_key(&o.id) {
                        say(format!("{at}: requirement has no value for level '{}' (add {} = \"…\")", o.id, o.id));
                    }
                }
                for k in requirement.keys() {
                    if !choice.options.iter().any(|o| &o.id == k) {
                        say(format!("{at}: requirement names level '{k}', which '{level}' does not offer"));
                    }
                }
            }
            for (k, v) in requirement {
                positive(&format!("requirement {k}"), *v, say);
            }
        }
        Rule::Quarters { input, quarters } => {
            expect(input, &[DatedList], say);
            if *quarters == 0 {
                say(format!("{at}: quarters is 0 (write how many completed quarters before the visit must each hold an entry, e.g. quarters = 4)"));
            }
        }
        Rule::AtLeast { input, target, lower } => {
            expect(input, &[Count], say);
            positive("target", *target, say);
            if let Some(l) = lower {
                expect(&l.input, &[Count, Measurement], say);
                positive("lower target", l.target, say);
                if l.target.0 >= target.0 {
                    say(format!("{at}: the lowered target {} is not below the target {target}", l.target));
                }
            }
        }
        Rule::Range { checks } => {
            if checks.is_empty() {
                say(format!("{at}: range needs checks"));
            }
            for c in checks {
                expect(&c.input, &[Measurement], say);
                if c.min.0 > c.max.0 {
                    say(format!("{at}: range on '{}' has min {} above max {}", c.input, c.min, c.max));
                }
            }
        }
    }
}

/// The seed's own inconsistencies, each matched with the rubric's interpretation if it has one.
pub(super) fn findings(r: &Rubric) -> Vec<Finding> {
    let mut out = Vec::new();
    let inputs: HashMap<&str, &Input> = r.inputs().map(|(_, i)| (i.id.as_str(), i)).collect();
    for item in &r.item {
        let mut found: Vec<(&'static str, String)> = Vec::new();
        for part in &item.part {
            let label = &part.label;
            if let Some(tp) = part.text_points {
                if tp.0 != part.points.0 {
                    found.push(("text-points-mismatch", format!("'{label}' is worth {} but the seed's text awards {tp}", part.points)));
                }
            }
            if part.implied_points {
                found.push(("implied-points", format!("'{label}' has no stated points; {} derived from the item total", part.points)));
            }
            if part.vacuous {
                found.push(("vacuous-requirement", format!("'{label}' could be met vacuously")));
            }
            match &part.rule {
                Rule::Bands { input, bands } => {
                    // Counts are whole numbers: bands 1–1 and 2– leave no gap.
                    let whole = matches!(inputs.get(input.as_str()).map(|i| i.kind), Some(InputKind::Count | InputKind::Tally | InputKind::Elements));
                    let next = |to: Decimal| if whole { to + Decimal::ONE } else { to };
                    // bands are listed high to low; compare each band with the one above it.
                    for w in bands.windows(2) {
                        let (upper, lower) = (&w[0], &w[1]);
                        let Some(to) = lower.to else { continue };
                        if whole && next(to.0) == upper.from.0 {
                            continue;
                        }
                        if to.0 >= upper.from.0 {
                            found.push((
                                "band-overlap",
                                format!(
                                    "'{label}': bands {}–{} and {}{} share {}",
                                    lower.from,
                                    to,
                                    upper.from,
                                    upper.to.map(|t| format!("–{t}")).unwrap_or_default(),
                                    upper.from
                                ),
                            ));
                        } else {
                            found.push(("band-gap", format!("'{label}': no band covers values between {to} and {}", upper.from)));
                        }
                    }
                }
                Rule::Excess { .. } | Rule::LevelShortfall { .. } => {
                    found.push(("step-rounding", format!("'{label}' deducts per step; values between steps need a reading")));
                }
                Rule::Deduct { input, inputs: many, .. } => {
                    let sample = input.iter().chain(many.iter()).any(|i| inputs.get(i.as_str()).map(|x| x.kind) == Some(InputKind::TimeSample));
                    if sample {
                        found.push(("step-rounding", format!("'{label}' deducts per unit of overrun; fractions of a unit need a reading")));
                    }
                }
                _ => {}
            }
        }
        let mut dedup = BTreeSet::new();
        // This item's findings start here (item ids are unique in a rubric that validates).
        let own = out.len();
        for (code, message) in found {
            let interp = item.interpretation.iter().find(|i| i.finding == code).map(|i| i.text.clone());
            if dedup.insert((code, message.clone())) {
                out.push(Finding { item: item.id.clone(), code, message, interpretation: interp });
            }
        }
        for i in item.interpretation.iter().filter(|i| !i.note && i.finding != "note") {
            if !out[own..].iter().any(|f| f.item == item.id && f.code == i.finding) {
                out.push(Finding {
                    item: item.id.clone(),
                    code: "stale-interpretation",
                    message: format!("interpretation '{}' answers no finding of this item (remove it, or make it a note = true)", i.finding),
                    interpretation: None,
                });
            }
        }
        for i in item.interpretation.iter().filter(|i| i.note || i.finding == "note") {
            out.push(Finding { item: item.id.clone(), code: "note", message: "reading noted".into(), interpretation: Some(i.text.clone()) });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk `parents_cycle` replaced (issue #15), kept as the specification: from each
    /// group up its parents, a cycle when a parent id is the group's own or the walk outlasts
    /// the number of groups.
    fn walked(links: &[(&str, Option<&str>)]) -> Vec<bool> {
        let group = |id: &str| links.iter().find(|(g, _)| *g == id);
        links
            .iter()
            .map(|(id, parent)| {
                let mut cur = *parent;
                let mut steps = 0;
                while let Some(pid) = cur {
                    steps += 1;
                    if pid == *id || steps > links.len() {
                        return true;
                    }
                    cur = group(pid).and_then(|(_, p)| *p);
                }
                false
            })
            .collect()
    }

    #[test]
    fn cycles_are_the_groups_the_old_walk_found_duplicates_and_missing_parents_included() {
        // Every forest of up to 6 groups with ids and parents drawn from 4 names (repeats make
        // duplicate ids, unused names missing parents), pseudo-randomly.
        let names = ["a", "b", "c", "d"];
        let mut seed: u64 = 0x5eed;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let mut found = 0;
        for _ in 0..20_000 {
            let n = 1 + next(6) as usize;
            let links: Vec<(&str, Option<&str>)> =
                (0..n).map(|_| (names[next(4) as usize], if next(5) == 0 { None } else { Some(names[next(4) as usize]) })).collect();
            let mut first = HashMap::new();
            for (k, (id, _)) in links.iter().enumerate() {
                first.entry(*id).or_insert(k);
            }
            let expected = walked(&links);
            assert_eq!(parents_cycle(&links, &first), expected, "{links:?}");
            found += expected.iter().filter(|c| **c).count();
        }
        assert!(found > 1000, "cycles among the cases: {found}");
    }
}
