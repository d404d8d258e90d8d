//! Arithmetic, comparison and logic operators, with Terraform's conversions (`"2" + 1` is 3)
//! and unknown propagation.

use gantry_provider::{Type, Value};
use hcl_edit::expr::{BinaryOperator, UnaryOperator};

pub fn unary(op: UnaryOperator, operand: Value) -> Result<Value, String> {
    match op {
        UnaryOperator::Neg => match number(&operand, "-")? {
            Some(n) => Ok(Value::Number(-n)),
            None => Ok(Value::Unknown(Type::Number)),
        },
        UnaryOperator::Not => match boolean(&operand, "!")? {
            Some(b) => Ok(Value::Bool(!b)),
            None => Ok(Value::Unknown(Type::Bool)),
        },
    }
}

pub fn binary(op: BinaryOperator, lhs: Value, rhs: Value) -> Result<Value, String> {
    use BinaryOperator as B;
    let sym = op.as_str();
    match op {
        B::Eq | B::NotEq => {
            if !lhs.is_wholly_known() || !rhs.is_wholly_known() {
                return Ok(Value::Unknown(Type::Bool));
            }
            let equal = lhs == rhs;
            Ok(Value::Bool(if op == B::Eq { equal } else { !equal }))
        }
        B::And | B::Or => {
            let (a, b) = (boolean(&lhs, sym)?, boolean(&rhs, sym)?);
            Ok(match (a, b) {
                (Some(a), Some(b)) => Value::Bool(if op == B::And { a && b } else { a || b }),
                _ => Value::Unknown(Type::Bool),
            })
        }
        B::Less | B::LessEq | B::Greater | B::GreaterEq => {
            let (Some(a), Some(b)) = (number(&lhs, sym)?, number(&rhs, sym)?) else {
                return Ok(Value::Unknown(Type::Bool));
            };
            Ok(Value::Bool(match op {
                B::Less => a < b,
                B::LessEq => a <= b,
                B::Greater => a > b,
                _ => a >= b,
            }))
        }
        B::Plus | B::Minus | B::Mul | B::Div | B::Mod => {
            let (Some(a), Some(b)) = (number(&lhs, sym)?, number(&rhs, sym)?) else {
                return Ok(Value::Unknown(Type::Number));
            };
            let result = match op {
                B::Plus => a + b,
                B::Minus => a - b,
                B::Mul => a * b,
                B::Div if b == 0.0 => return Err("can't divide by zero".into()),
                B::Div => a / b,
                B::Mod if b == 0.0 => return Err("can't use modulo by zero".into()),
                _ => a % b,
            };
            Ok(Value::Number(result))
        }
    }
}

/// The operand as a number; `None` when unknown.
fn number(v: &Value, op: &str) -> Result<Option<f64>, String> {
    match v.convert(&Type::Number) {
        Ok(Value::Number(n)) => Ok(Some(n)),
        Ok(Value::Unknown(_)) => Ok(None),
        Ok(Value::Null) => Err(format!("`{op}` needs a number, got null")),
        _ => Err(format!("`{op}` needs a number, got {}", describe(v))),
    }
}

/// The operand as a bool; `None` when unknown.
fn boolean(v: &Value, op: &str) -> Result<Option<bool>, String> {
    match v.convert(&Type::Bool) {
        Ok(Value::Bool(b)) => Ok(Some(b)),
        Ok(Value::Unknown(_)) => Ok(None),
        Ok(Value::Null) => Err(format!("`{op}` needs a bool, got null")),
        _ => Err(format!("`{op}` needs a bool, got {}", describe(v))),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(_) => format!("the string {v}"),
        other => other.type_name().to_owned(),
    }
}
