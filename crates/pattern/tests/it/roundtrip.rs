//! Printer/parser round trip: for generated trees, `parse(print(tree)) == tree` up to spans,
//! and printing is a fixed point.

use pattern::*;
use proptest::prelude::*;

/// Sets every span to zero, so that trees compare by shape and content only.
pub fn strip(p: &mut Pattern) {
    fn path(p: &mut ObjectPath) {
        p.span = Span::default();
        p.step_spans.iter_mut().for_each(|s| *s = Span::default());
    }
    fn cmp(e: &mut ComparisonExpr) {
        match e {
            ComparisonExpr::And { lhs, rhs, span } | ComparisonExpr::Or { lhs, rhs, span } => {
                *span = Span::default();
                cmp(lhs);
                cmp(rhs);
            }
            ComparisonExpr::Comparison(c) => {
                c.span = Span::default();
                c.rhs_span = Span::default();
                path(&mut c.path);
            }
            ComparisonExpr::Exists { path: p, span, .. } => {
                *span = Span::default();
                path(p);
            }
        }
    }
    fn obs(e: &mut ObservationExpr) {
        match e {
            ObservationExpr::Observation { expr, span } => {
                *span = Span::default();
                cmp(expr);
            }
            ObservationExpr::And { lhs, rhs, span }
            | ObservationExpr::Or { lhs, rhs, span }
            | ObservationExpr::FollowedBy { lhs, rhs, span } => {
                *span = Span::default();
                obs(lhs);
                obs(rhs);
            }
            ObservationExpr::Qualified {
                expr,
                qualifier_span,
                span,
                ..
            } => {
                *span = Span::default();
                *qualifier_span = Span::default();
                obs(expr);
            }
        }
    }
    obs(&mut p.root);
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        1u32..=9999,
        1u32..=12,
        1u32..=28,
        0u32..24,
        0u32..60,
        0u32..60,
        proptest::option::of("[0-9]{1,9}"),
    )
        .prop_map(|(y, mo, d, h, mi, s, frac)| {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let raw = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z");
            let value: jiff::Timestamp = raw.parse().expect("generated timestamps are valid");
            Timestamp { raw, value }
        })
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.'\\\\%é-]{0,8}"
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        text().prop_map(Literal::String),
        any::<i64>().prop_map(Literal::Int),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Literal::Float),
        any::<bool>().prop_map(Literal::Bool),
        timestamp().prop_map(Literal::Timestamp),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(Literal::Hex),
        proptest::collection::vec(any::<u8>(), 1..6).prop_map(Literal::Binary),
    ]
}

fn object_path() -> impl Strategy<Value = ObjectPath> {
    let ty =
        "[a-z][a-z0-9-]{0,8}".prop_filter("not a literal word", |t| t != "true" && t != "false");
    let step = prop_oneof![
        3 => "[a-zA-Z_][a-zA-Z0-9_-]{0,6}|[ a-z'.]{1,4}".prop_map(PathStep::Property),
        1 => (0usize..100).prop_map(PathStep::Index),
        1 => Just(PathStep::AnyIndex),
    ];
    (
        ty,
        "[a-z_][a-z0-9_]{0,6}",
        proptest::collection::vec(step, 0..4),
    )
        .prop_map(|(object_type, first, rest)| {
            let mut steps = vec![PathStep::Property(first)];
            steps.extend(rest);
            ObjectPath {
                object_type,
                step_spans: vec![Span::default(); steps.len()],
                steps,
                span: Span::default(),
            }
        })
}

fn comparison() -> impl Strategy<Value = ComparisonExpr> {
    let op = prop_oneof![
        Just(Op::Eq),
        Just(Op::Neq),
        Just(Op::Lt),
        Just(Op::Le),
        Just(Op::Gt),
        Just(Op::Ge),
        Just(Op::In),
        Just(Op::Like),
        Just(Op::Matches),
        Just(Op::IsSubset),
        Just(Op::IsSuperset),
    ];
    let rhs_any = prop_oneof![
        literal().prop_map(Rhs::Literal),
        proptest::collection::vec(literal(), 0..4).prop_map(Rhs::Set),
        text().prop_map(|s| Rhs::Literal(Literal::String(s))),
    ];
    (object_path(), any::<bool>(), op, rhs_any).prop_map(|(path, negated, op, rhs)| {
        // Make the right-hand side fit the operator, as the grammar demands.
        let rhs = match (op, rhs) {
            (Op::In, Rhs::Set(s)) => Rhs::Set(s),
            (Op::In, Rhs::Literal(l)) => Rhs::Set(vec![l]),
            (
                Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset,
                Rhs::Literal(Literal::String(s)),
            ) => Rhs::Literal(Literal::String(s)),
            (Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset, _) => {
                Rhs::Literal(Literal::String("x".into()))
            }
            (Op::Lt | Op::Le | Op::Gt | Op::Ge, Rhs::Literal(Literal::Bool(_)) | Rhs::Set(_)) => {
                Rhs::Literal(Literal::Int(1))
            }
            (_, Rhs::Set(_)) => Rhs::Literal(Literal::Int(2)),
            (_, other) => other,
        };
        ComparisonExpr::Comparison(Comparison {
            path,
            negated,
            op,
            rhs,
            rhs_span: Span::default(),
            span: Span::default(),
        })
    })
}

fn comparison_expr() -> impl Strategy<Value = ComparisonExpr> {
    let leaf = prop_oneof![
        4 => comparison(),
        1 => (object_path(), any::<bool>()).prop_map(|(path, negated)| ComparisonExpr::Exists {
            path,
            negated,
            span: Span::default(),
        }),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        (inner.clone(), inner, any::<bool>()).prop_map(|(l, r, and)| {
            let (lhs, rhs, span) = (Box::new(l), Box::new(r), Span::default());
            if and {
                ComparisonExpr::And { lhs, rhs, span }
            } else {
                ComparisonExpr::Or { lhs, rhs, span }
            }
        })
    })
}

fn qualifier() -> impl Strategy<Value = Qualifier> {
    prop_oneof![
        (1u32..100_000).prop_map(|n| Qualifier::Within {
            seconds: f64::from(n)
        }),
        (1u32..1_000_000).prop_map(|n| Qualifier::Within {
            seconds: f64::from(n) / 1000.0
        }),
        any::<u32>().prop_map(|times| Qualifier::Repeats { times }),
        (timestamp(), timestamp()).prop_map(|(start, stop)| Qualifier::StartStop { start, stop }),
    ]
}

fn observation_expr() -> impl Strategy<Value = ObservationExpr> {
    let leaf = comparison_expr().prop_map(|expr| ObservationExpr::Observation {
        expr,
        span: Span::default(),
    });
    leaf.prop_recursive(4, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone(), 0u8..3).prop_map(|(l, r, which)| {
                let (lhs, rhs, span) = (Box::new(l), Box::new(r), Span::default());
                match which {
                    0 => ObservationExpr::And { lhs, rhs, span },
                    1 => ObservationExpr::Or { lhs, rhs, span },
                    _ => ObservationExpr::FollowedBy { lhs, rhs, span },
                }
            }),
            (inner, qualifier()).prop_map(|(e, qualifier)| ObservationExpr::Qualified {
                expr: Box::new(e),
                qualifier,
                qualifier_span: Span::default(),
                span: Span::default(),
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn print_then_parse_is_identity(root in observation_expr()) {
        let tree = Pattern { root, version: StixVersion::V21 };
        let text = tree.to_string();
        let mut back = parse(&text, StixVersion::V21)
            .map_err(|e| TestCaseError::fail(format!("{text}\n{}", e.render(&text))))?;
        strip(&mut back);
        prop_assert_eq!(&back, &tree, "printed as {}", text);
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,64}") {
        let _ = validate(&text, StixVersion::V21);
        let _ = validate(&text, StixVersion::V20);
    }
}

#[test]
fn printer_adds_needed_parentheses() {
    for (input, printed) in [
        (
            "[a:b = 1] AND ([c:d = 2] OR [e:f = 3])",
            "[a:b = 1] AND ([c:d = 2] OR [e:f = 3])",
        ),
        (
            "([a:b = 1] AND [c:d = 2]) WITHIN 5 SECONDS",
            "([a:b = 1] AND [c:d = 2]) WITHIN 5 SECONDS",
        ),
        (
            "([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS",
            "([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS",
        ),
        (
            "[(a:b = 1 OR a:c = 2) AND a:d == 3]",
            "[(a:b = 1 OR a:c = 2) AND a:d = 3]",
        ),
        ("[a:b.'c-d'[*].e <> 'x\\'y']", "[a:b.'c-d'[*].e != 'x\\'y']"),
        ("[a:b = 7.0] OR [a:c = -.5]", "[a:b = 7.0] OR [a:c = -0.5]"),
    ] {
        let p = parse(input, StixVersion::V21).expect(input);
        assert_eq!(p.to_string(), printed, "{input}");
    }
}
