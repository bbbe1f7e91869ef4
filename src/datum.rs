//! The function boundary's types: PostgreSQL enum values as the domain's Rust enums, and
//! numeric values as `Decimal`. Every RPC takes and returns its contract's own SQL types and
//! the store binds and reads numerics as numeric (no `::text` casts in SQL); these functions
//! are the only places the values change representation. Numerics convert exactly, through
//! PostgreSQL's own numeric_out/numeric_in.

use crate::domain::money::NumericArg;
use crate::domain::DbEnum;
use pgrx::callconv::{Arg, ArgAbi};
use pgrx::datum::{AnyNumeric, FromDatum};
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use rust_decimal::Decimal;

/// A value of the PostgreSQL enum type `T::SQL_TYPE` (created by sql/00_bootstrap.sql, so
/// pgrx names it rather than creating it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enum<T>(pub T);

impl<T: DbEnum> FromDatum for Enum<T> {
    unsafe fn from_polymorphic_datum(datum: pg_sys::Datum, is_null: bool, _typoid: pg_sys::Oid) -> Option<Self> {
        if is_null {
            return None;
        }
        let oid = unsafe { pg_sys::Oid::from_datum(datum, false)? };
        let (label, _, _) = pgrx::enum_helper::lookup_enum_by_oid(oid);
        // PostgreSQL checked the value against the type; a label this build does not know
        // means the type and the library disagree, which version::require_current_schema
        // rules out.
        let value = T::from_label(&label).unwrap_or_else(|| panic!("{label:?} is not a {}", T::SQL_TYPE));
        Some(Enum(value))
    }
}

unsafe impl<'fcx, T: DbEnum> ArgAbi<'fcx> for Enum<T> {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let index = arg.index();
        unsafe { arg.unbox_arg_using_from_datum().unwrap_or_else(|| panic!("argument {index} must not be null")) }
    }
}

unsafe impl<T: DbEnum> SqlTranslatable for Enum<T> {
    const TYPE_IDENT: &'static str = T::SQL_TYPE;
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> = Ok(SqlMappingRef::literal(T::SQL_TYPE));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> = Ok(ReturnsRef::One(SqlMappingRef::literal(T::SQL_TYPE)));
}

/// A numeric argument for the domain's money rules.
pub fn numeric_arg(value: AnyNumeric) -> NumericArg {
    let printed = value.to_string();
    crate::domain::money::parse_numeric(&printed).map_or(NumericArg::Other(printed), NumericArg::Exact)
}

/// A `Decimal` as a numeric result, with its scale (100.00 stays 100.00).
pub fn numeric(value: Decimal) -> AnyNumeric {
    AnyNumeric::try_from(value.to_string().as_str()).expect("a Decimal is a valid numeric")
}
