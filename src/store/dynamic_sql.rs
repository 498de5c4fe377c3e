//! Queries whose conditions depend on a request's filters, built with
//! sqlx's `QueryBuilder`: fixed SQL fragments pushed with `push`, every
//! value bound with `push_bind`, so no value is ever part of the SQL text.
//!
//! `QueryBuilder<Any>` writes each placeholder as `?`: the `Any` driver does
//! not know the backend while the SQL is built (sqlx issue #3000). SQLite
//! reads `?`, PostgreSQL does not; [`numbered`] turns them into `$1, $2, …`,
//! the style of every static query here, which both backends accept.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe, Execute, QueryBuilder};

/// The builder's query, its placeholders numbered, ready to run on either
/// backend. The builder's fragments must use no `?` of their own outside
/// quoted literals (none of ours does: no JSON operators, no comments).
pub fn numbered(mut builder: QueryBuilder<Any>) -> sqlx::Result<Query<'static, Any, AnyArguments>> {
    let mut built = builder.build();
    let arguments = built
        .take_arguments()
        .map_err(sqlx::Error::Encode)?
        .unwrap_or_default();
    let sql = number_placeholders(built.sql().as_str());
    Ok(sqlx::query_with(AssertSqlSafe(sql), arguments))
}

/// `?` → `$1, $2, …` in order, leaving quoted literals and identifiers alone.
fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut next = 1;
    for c in sql.chars() {
        match (quote, c) {
            // A doubled quote inside a literal closes and reopens it: same result.
            (Some(open), _) if c == open => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '?') => {
                out.push('$');
                out.push_str(&next.to_string());
                next += 1;
                continue;
            }
            (None, _) => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order_outside_quotes() {
        assert_eq!(
            number_placeholders("SELECT a FROM t WHERE b = ? AND (c < ? OR (c = ? AND d < ?))"),
            "SELECT a FROM t WHERE b = $1 AND (c < $2 OR (c = $3 AND d < $4))"
        );
        assert_eq!(
            number_placeholders("WHERE s = 'why?' AND \"odd?\" = ? AND t = 'it''s ?' LIMIT ?"),
            "WHERE s = 'why?' AND \"odd?\" = $1 AND t = 'it''s ?' LIMIT $2"
        );
        assert_eq!(number_placeholders("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn a_built_query_keeps_its_values_in_placeholder_order() {
        let mut builder = QueryBuilder::<Any>::new("SELECT id FROM calls WHERE ");
        let mut conditions = builder.separated(" AND ");
        conditions
            .push("outcome = ")
            .push_bind_unseparated("escalated");
        conditions
            .push("started_at >= ")
            .push_bind_unseparated("2026-01-01");
        builder.push(" LIMIT ").push_bind(5_i64);
        let mut query = numbered(builder).unwrap();
        let arguments = query.take_arguments().unwrap().unwrap();
        assert_eq!(
            query.sql().as_str(),
            "SELECT id FROM calls WHERE outcome = $1 AND started_at >= $2 LIMIT $3"
        );
        assert_eq!(sqlx::Arguments::len(&arguments), 3);
    }
}
