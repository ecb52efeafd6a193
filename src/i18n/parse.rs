//! Parsing one locale file. fluent-syntax descends once per nested `{` or
//! call `(` with no limit of its own, so a few kilobytes of `{{{…` would
//! overflow a thread's stack and abort the whole process. A file is parsed
//! on a thread with room for any file accepted here, and refused there if
//! it nests deeper than a message needs: only shallow files leave it.

use fluent_bundle::FluentResource;
use fluent_syntax::ast;

/// Deeper than any message needs, and shallow enough for the 2 MiB stacks
/// of the threads that render messages.
pub const MAX_NESTING: usize = 16;

/// More `{` and `(` than any locale file needs; each opens at most one level.
const MAX_OPENINGS: usize = 4096;

/// Room for [`MAX_OPENINGS`] levels of the parser in a debug build, which
/// takes about 7 KiB a level.
const PARSER_STACK_BYTES: usize = 64 << 20;

/// A problem found while parsing, with the line it is on (0: the whole file).
pub type ParseProblem = (usize, String);

/// The file as a resource, or why it is refused: any syntax error refuses
/// it whole, as does nesting deeper than [`MAX_NESTING`].
pub fn parse_resource(source: String) -> Result<FluentResource, Vec<ParseProblem>> {
    let openings = source.bytes().filter(|b| matches!(b, b'{' | b'(')).count();
    if openings > MAX_OPENINGS {
        return Err(vec![(
            0,
            format!("{openings} `{{` and `(`, over the {MAX_OPENINGS} a locale file may have"),
        )]);
    }
    let parser = std::thread::Builder::new()
        .name("locale-parser".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || checked(source))
        .map_err(|e| vec![(0, format!("cannot start the parser: {e}"))])?;
    parser
        .join()
        .map_err(|_| vec![(0, "the parser failed".to_owned())])?
}

fn checked(source: String) -> Result<FluentResource, Vec<ParseProblem>> {
    let resource = FluentResource::try_new(source).map_err(|(resource, errors)| {
        errors
            .iter()
            .map(|e| (line_at(resource.source(), e.pos.start), e.kind.to_string()))
            .collect::<Vec<_>>()
    })?;
    let depth = resource.entries().map(entry_depth).max().unwrap_or(0);
    if depth > MAX_NESTING {
        return Err(vec![(
            0,
            format!("placeables and calls nest {depth} levels deep, over {MAX_NESTING}"),
        )]);
    }
    Ok(resource)
}

fn entry_depth(entry: &ast::Entry<&str>) -> usize {
    let (value, attributes) = match entry {
        ast::Entry::Message(message) => (message.value.as_ref(), &message.attributes),
        ast::Entry::Term(term) => (Some(&term.value), &term.attributes),
        _ => return 0,
    };
    value
        .into_iter()
        .chain(attributes.iter().map(|a| &a.value))
        .map(pattern_depth)
        .max()
        .unwrap_or(0)
}

fn pattern_depth(pattern: &ast::Pattern<&str>) -> usize {
    pattern
        .elements
        .iter()
        .map(|element| match element {
            ast::PatternElement::Placeable { expression } => 1 + expression_depth(expression),
            ast::PatternElement::TextElement { .. } => 0,
        })
        .max()
        .unwrap_or(0)
}

fn expression_depth(expression: &ast::Expression<&str>) -> usize {
    match expression {
        ast::Expression::Select { selector, variants } => variants
            .iter()
            .map(|v| pattern_depth(&v.value))
            .fold(inline_depth(selector), usize::max),
        ast::Expression::Inline(inline) => inline_depth(inline),
    }
}

fn inline_depth(inline: &ast::InlineExpression<&str>) -> usize {
    match inline {
        ast::InlineExpression::FunctionReference { arguments, .. }
        | ast::InlineExpression::TermReference {
            arguments: Some(arguments),
            ..
        } => {
            1 + arguments
                .positional
                .iter()
                .chain(arguments.named.iter().map(|n| &n.value))
                .map(inline_depth)
                .max()
                .unwrap_or(0)
        }
        ast::InlineExpression::Placeable { expression } => 1 + expression_depth(expression),
        _ => 0,
    }
}

fn line_at(source: &str, byte: usize) -> usize {
    source
        .get(..byte)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested_placeables(levels: usize) -> String {
        format!("a = {}\"x\"{}\n", "{".repeat(levels), "}".repeat(levels))
    }

    fn nested_calls(levels: usize) -> String {
        format!("a = {{ {}1{} }}\n", "F(".repeat(levels), ")".repeat(levels))
    }

    fn refusal(source: String) -> String {
        match parse_resource(source) {
            Ok(_) => panic!("a file nesting too deep was accepted"),
            Err(problems) => problems[0].1.clone(),
        }
    }

    #[test]
    fn placeables_nested_as_deep_as_a_message_needs_are_parsed() {
        assert!(parse_resource(nested_placeables(MAX_NESTING)).is_ok());
    }

    #[test]
    fn thousands_of_nested_placeables_are_refused_instead_of_overflowing_the_stack() {
        assert_eq!(
            refusal(nested_placeables(3000)),
            "placeables and calls nest 3000 levels deep, over 16"
        );
    }

    #[test]
    fn thousands_of_nested_calls_are_refused_instead_of_overflowing_the_stack() {
        assert_eq!(
            refusal(nested_calls(3000)),
            "placeables and calls nest 3001 levels deep, over 16"
        );
    }

    #[test]
    fn unclosed_placeables_are_a_syntax_error_however_deep() {
        let problem = refusal(format!("a = {}\n", "{".repeat(4000)));
        assert!(!problem.contains("nest"), "{problem}");
    }

    #[test]
    fn a_file_of_braces_is_refused_before_it_is_parsed() {
        assert_eq!(
            refusal("{".repeat(100_000)),
            "100000 `{` and `(`, over the 4096 a locale file may have"
        );
    }
}
