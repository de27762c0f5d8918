// The engine README's example: a small network trained for five epochs.
import * as torch from './index';
const { nn, optim } = torch;
const F = nn.functional;

torch.manual_seed(0);
const model = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 3));
const opt = new optim.Adam(model.parameters(), { lr: 0.09 });
const x = torch.tensor([[0.1, 0.2, 0.7]]);
const y = torch.tensor([1], { dtype: 'int64' });
for (let epoch = 1; epoch <= 5; epoch++) {
  opt.zero_grad();
  const loss = F.cross_entropy(model.forward(x), y);
  loss.backward();
  opt.step();
  console.log(epoch, loss.item());
}
