/**
 * Delete state machine of the OpenStack driver (spec drivers-config §5.5): release the server's
 * floating IPs (by address and by its ports, so one created just before a timeout is not left
 * behind), delete the server, and wait until it is gone or DELETED. A server that does not exist
 * is reported with NotFoundError, which the engine counts as deleted.
 */
import { NotFoundError, StateMachine, type Instance, type Logger } from '@nodepool-ts/sdk';
import type { CloudResources } from './cloud-resources';
import { isTransient } from './http-transport';
import { isNotFound } from './openstack-client';
import { serverIps } from './server-addresses';

/** The delete machine; see the module comment. */
export class OpenstackDeleteStateMachine extends StateMachine {
  private floatingIds: string[] = [];

  constructor(
    private readonly resources: CloudResources,
    externalId: unknown,
    private readonly log: Logger,
  ) {
    super();
    this.externalId = externalId;
  }

  private get id(): string {
    return String(this.externalId);
  }

  async advance(): Promise<Instance | undefined> {
    try {
      return await this.step();
    } catch (err) {
      // Waiting for the cloud to finish: an outage is waited out (the delete timeout bounds it).
      if (this.state !== 'start' && isTransient(err)) {
        this.log.warn('cloud API unavailable; waiting', { state: this.state, err: (err as Error).message });
        return undefined;
      }
      throw err;
    }
  }

  private async step(): Promise<Instance | undefined> {
    switch (this.state) {
      case 'start':
        return this.start();
      case 'floating ip deleting':
        return this.waitFloatingIpsGone();
      case 'server deleting':
        return this.waitServerGone();
      default:
        throw new Error(`unknown state ${this.state}`);
    }
  }

  private async start(): Promise<undefined> {
    const client = this.resources.client;
    // Fresh: a stale list could show a server that is already gone, or miss a new one.
    const server = await client.getServer(this.id); // NotFoundError = nothing to do
    const floating = new Set<string>();
    for (const addr of serverIps(server).floating) {
      for (const fip of await client.listFloatingIps({ floating_ip_address: addr })) floating.add(fip.id);
    }
    for (const port of await client.listPorts({ device_id: this.id })) {
      for (const fip of await client.listFloatingIps({ port_id: port.id })) floating.add(fip.id);
    }
    for (const fipId of floating) {
      try {
        await client.deleteFloatingIp(fipId);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    this.floatingIds = [...floating];
    this.state = this.floatingIds.length > 0 ? 'floating ip deleting' : 'server deleting';
    if (this.state === 'server deleting') await this.deleteServer();
    return undefined;
  }

  private async waitFloatingIpsGone(): Promise<undefined> {
    const left: string[] = [];
    for (const fipId of this.floatingIds) {
      try {
        const fip = await this.resources.client.getFloatingIp(fipId);
        if (fip.status !== 'DOWN') left.push(fipId);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    this.floatingIds = left;
    if (left.length === 0) {
      this.state = 'server deleting';
      await this.deleteServer();
    }
    return undefined;
  }

  private async deleteServer(): Promise<void> {
    try {
      await this.resources.client.deleteServer(this.id);
      this.log.debug('server delete submitted', { external_id: this.id });
    } catch (err) {
      // Gone in the meantime: the wait below sees it absent.
      if (!(err instanceof NotFoundError)) throw err;
    }
    // The wait reads the shared list; it must be one fetched after the delete.
    this.resources.servers.clear();
  }

  /**
   * Waits on the shared server list (one call for all machines, so many deletes stay within the
   * provider's `rate`) until the server is absent or DELETED.
   */
  private async waitServerGone(): Promise<undefined> {
    const server = await this.resources.server(this.id);
    if (server && server.status !== 'DELETED') return undefined;
    this.complete = true;
    this.state = 'complete';
    return undefined;
  }
}
