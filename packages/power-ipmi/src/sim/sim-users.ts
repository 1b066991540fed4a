/** An account on the simulated BMC. */
export interface SimUser {
  readonly name: string;
  readonly password: string;
  /** Maximum privilege: 2 user, 3 operator, 4 administrator. */
  readonly privilege: number;
}

/** The default account, like pyghmi's fakebmc: admin / password, administrator. */
export const DEFAULT_SIM_USERS: readonly SimUser[] = [{ name: 'admin', password: 'password', privilege: 4 }];
