/**
 * CloudFormation logical IDs of the resources that hold state or a fixed name, as the stack first
 * deployed them. CloudFormation replaces a resource whose logical ID changes: a replaced table is
 * orphaned (it is retained) and a new, empty one takes its place; a replaced secret loses the
 * provider credentials; a replaced rule set collides with its own fixed name; a replaced shipper
 * role or user cuts the shipper off. Grouping these resources into named constructs changed their
 * construct paths, so their IDs are pinned here (test/infra asserts the template keeps them).
 */
import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const STABLE_LOGICAL_IDS = {
  table: 'TableCD117FA1',
  providerSecret: 'ProviderSecretB148C1D8',
  unsubFailedEvents: 'UnsubFailedEventsC41FBC1D',
  unsubscribeRuleSet: 'UnsubscribeRuleSetDDF3FF7B',
  shipperPolicy: 'ShipperPolicyC13C7A82',
  shipperRole: 'ShipperRoleE7E45BA8',
  shipperInstanceProfile: 'ShipperInstanceProfile32E1AA30',
  shipperUser: 'ShipperUser61A949EC',
} as const;

/** Gives the CloudFormation resource behind `construct` its pinned logical ID. */
function pinLogicalId(construct: IConstruct, key: keyof typeof STABLE_LOGICAL_IDS): void {
  const resource = construct instanceof CfnResource ? construct : construct.node.defaultChild;
  if (!(resource instanceof CfnResource))
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  resource.overrideLogicalId(STABLE_LOGICAL_IDS[key]);
}

export { pinLogicalId, STABLE_LOGICAL_IDS };
