/**
 * The one DynamoDB table of suppressions, soft-bounce counters, audit trail, notices and rejects
 * (docs/operations.md "The state table"). Created by the stack and kept when it is deleted, with
 * deletion protection; or, with `aws.tableName`, an existing table (the one kept from an earlier
 * deployment) is used as it is and the stack never changes or deletes it.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '#adapters/dynamodb/table-schema.ts';
import { pinLogicalId } from '../stable-logical-ids.ts';

interface StateTableProps {
  /** An existing table to use instead of creating one (config `aws.tableName`). */
  existingTableName?: string | undefined;
}

class StateTable extends Construct {
  readonly table: ITableV2;
  /** False when the table was created elsewhere (`aws.tableName`). */
  readonly managed: boolean;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.managed = props.existingTableName === undefined;
    if (props.existingTableName !== undefined) {
      this.table = TableV2.fromTableName(this, 'Existing', props.existingTableName);
      return;
    }
    const table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Suppressions are the product's memory: kept when the stack is deleted, and a delete by
      // hand has to switch the protection off first.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    pinLogicalId(table, 'table');
    this.table = table;
  }
}

export type { StateTableProps };
export { StateTable };
