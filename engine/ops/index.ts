export * from './arithmetic';
export * from './activation';
export * from './creation';
export * from './layout';
export * from './reduction';
