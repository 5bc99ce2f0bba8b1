//! The table's shape as data: the one description that [`DynamoStore::create_table`] builds the
//! table from and that the stack's template is checked against.
//!
//! [`DynamoStore::create_table`]: super::DynamoStore::create_table

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

/// A table's key schema, indexes and billing, as CloudFormation names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    /// The partition (`HASH`) key attribute.
    pub partition_key: &'static str,
    /// The sort (`RANGE`) key attribute.
    pub sort_key: &'static str,
    /// The global secondary indexes.
    pub indexes: &'static [IndexSchema],
    /// `BillingMode`.
    pub billing_mode: &'static str,
}

/// One global secondary index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSchema {
    /// `IndexName`.
    pub name: &'static str,
    /// The index's partition (`HASH`) key attribute.
    pub partition_key: &'static str,
    /// The index's sort (`RANGE`) key attribute.
    pub sort_key: &'static str,
    /// `Projection.ProjectionType`.
    pub projection: &'static str,
}

/// The DynamoDB type of every key attribute of the table and its indexes: a string.
pub const KEY_ATTRIBUTE_TYPE: &str = "S";

/// The event history's table: `PK`/`SK`, five indexes projecting every attribute, on demand.
pub const TABLE_SCHEMA: TableSchema = TableSchema {
    partition_key: "PK",
    sort_key: "SK",
    indexes: &[
        index("by_time", "GSI1PK", "GSI1SK"),
        index("by_group", "GSI2PK", "GSI2SK"),
        index("by_kind", "GSI3PK", "GSI3SK"),
        index("by_lifecycle", "GSI4PK", "GSI4SK"),
        index("by_key", "GSI5PK", "GSI5SK"),
    ],
    billing_mode: "PAY_PER_REQUEST",
};

const fn index(
    name: &'static str,
    partition_key: &'static str,
    sort_key: &'static str,
) -> IndexSchema {
    IndexSchema {
        name,
        partition_key,
        sort_key,
        projection: "ALL",
    }
}

impl TableSchema {
    /// Every key attribute of the table and its indexes (`AttributeDefinitions`), each of type
    /// [`KEY_ATTRIBUTE_TYPE`].
    pub fn key_attributes(&self) -> Vec<&'static str> {
        let mut names = vec![self.partition_key, self.sort_key];
        for index in self.indexes {
            names.push(index.partition_key);
            names.push(index.sort_key);
        }
        names
    }
}

/// The indexes the store queries, in the order of [`TABLE_SCHEMA`]'s `indexes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Index {
    /// Events by UTC day, then time.
    Time = 0,
    /// Events by cluster group, then time.
    Group = 1,
    /// Events by kind, then time.
    Kind = 2,
    /// Lifecycle events by lifecycle group, then time.
    Lifecycle = 3,
    /// Id prefixes, open maintenances, deliveries by state.
    Key = 4,
}

impl Index {
    fn schema(self) -> &'static IndexSchema {
        &TABLE_SCHEMA.indexes[self as usize]
    }

    /// The index's name.
    pub(crate) fn name(self) -> &'static str {
        self.schema().name
    }

    /// Its partition key attribute.
    pub(crate) fn partition_key(self) -> &'static str {
        self.schema().partition_key
    }

    /// Its sort key attribute.
    pub(crate) fn sort_key(self) -> &'static str {
        self.schema().sort_key
    }
}

/// A schema element the SDK refused: only possible if [`TABLE_SCHEMA`] lacked a field.
type BuildError = aws_sdk_dynamodb::error::BuildError;

/// The parts of a `CreateTable` request, built from [`TABLE_SCHEMA`].
pub(crate) struct CreateTableParts {
    pub(crate) attributes: Vec<AttributeDefinition>,
    pub(crate) key_schema: Vec<KeySchemaElement>,
    pub(crate) indexes: Vec<GlobalSecondaryIndex>,
    pub(crate) billing_mode: BillingMode,
}

fn key(attribute: &str, key_type: KeyType) -> Result<KeySchemaElement, BuildError> {
    KeySchemaElement::builder()
        .attribute_name(attribute)
        .key_type(key_type)
        .build()
}

/// The `CreateTable` parts of `schema`.
pub(crate) fn create_table_parts(schema: &TableSchema) -> Result<CreateTableParts, BuildError> {
    let attributes = schema
        .key_attributes()
        .into_iter()
        .map(|name| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::from(KEY_ATTRIBUTE_TYPE))
                .build()
        })
        .collect::<Result<_, _>>()?;
    let key_schema = vec![
        key(schema.partition_key, KeyType::Hash)?,
        key(schema.sort_key, KeyType::Range)?,
    ];
    let indexes = schema
        .indexes
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(index.name)
                .key_schema(key(index.partition_key, KeyType::Hash)?)
                .key_schema(key(index.sort_key, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection))
                        .build(),
                )
                .build()
        })
        .collect::<Result<_, _>>()?;
    Ok(CreateTableParts {
        attributes,
        key_schema,
        indexes,
        billing_mode: BillingMode::from(schema.billing_mode),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_attribute_is_defined_once() {
        let names = TABLE_SCHEMA.key_attributes();
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(names.len(), 12);
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn the_indexes_are_named_as_the_store_queries_them() {
        assert_eq!(Index::Time.name(), "by_time");
        assert_eq!(Index::Lifecycle.partition_key(), "GSI4PK");
        assert_eq!(Index::Key.sort_key(), "GSI5SK");
        let parts = create_table_parts(&TABLE_SCHEMA).unwrap();
        assert_eq!(parts.indexes.len(), 5);
        assert_eq!(parts.billing_mode, BillingMode::PayPerRequest);
    }
}
